import { Hono } from "hono";
import type { AppEnv } from "../env";
import { allowedMethods } from "../http/middleware";
import { TenantConfigError } from "../tenants/config";
import { VERSION } from "../version";

export const health = new Hono<AppEnv>();

health.use("/health", allowedMethods(health));
health.get("/health", (c) => {
  const { tenants } = c.var.config;
  // The Worker is up either way; a broken TENANTS is said here (its message names the entry, never a token).
  const broken = tenants instanceof TenantConfigError ? { config: "broken", config_error: tenants.message } : {};
  return c.json({ ok: true, backend: c.var.backend.kind, version: VERSION, ...broken });
});
