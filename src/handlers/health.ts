import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { methodNotAllowed } from "../middleware";
import { VERSION } from "../version";

export const health = new Hono<AppEnv>();

health.get("/health", (c) => c.json({ ok: true, backend: c.var.backend.kind, version: VERSION }));
health.all("/health", methodNotAllowed("GET", "HEAD"));
