import { Hono } from "hono";
import type { AppEnv } from "../env";
import { allowedMethods } from "../http/middleware";
import { VERSION } from "../version";

export const health = new Hono<AppEnv>();

health.use("/health", allowedMethods(health));
health.get("/health", (c) => c.json({ ok: true, backend: c.var.backend.kind, version: VERSION }));
