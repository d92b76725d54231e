/** Request-scoped wiring shared by every route. */
import type { Context, Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { readConfig } from "../config";
import type { AppEnv } from "../env";
import type { Config } from "../config";
import type { Bindings } from "../env";
import { backendFor, type MemoryBackend } from "../memos/backend";
import { TenantConfigError, type Scope, type Tenant } from "../tenants/config";
import { callerId, matchToken, UnauthorizedError } from "./auth";
import { AppError } from "./errors";

/** An incoming X-Request-Id is kept when it is short and plain; otherwise one is made up. */
export const requestIds = requestId({ limitLength: 128 });

/**
 * Sets the parsed config and the backend, and writes one JSON log line per
 * request: once the answer and the work it left running (`runAfterAnswer`)
 * are done, so a failure after the answer is on the same line.
 */
export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  const config = readConfig(c.env);
  c.set("config", config);
  c.set("backend", sharedBackend(c.env, config));
  c.set("log", {});
  c.set("lateWork", []);
  await next();
  // Dify decodes by the declared charset and guesses without one.
  const type = c.res.headers.get("Content-Type");
  if (type?.startsWith("application/json") && !/charset=/i.test(type))
    c.header("Content-Type", `${type}; charset=utf-8`);
  // Tokens, keys and message contents never reach this line.
  const line = {
    request_id: c.var.requestId,
    method: c.req.method,
    route: c.req.routePath,
    status: c.res.status,
    duration_ms: Date.now() - started,
    backend: c.var.backend.kind,
  };
  const writeLine = () => console.log(JSON.stringify({ ...line, ...c.var.log }));
  if (c.var.lateWork.length === 0) writeLine();
  else c.executionCtx.waitUntil(settled(c.var.lateWork).then(writeLine));
});

/** Keeps `work` running after the answer (a caller that hangs up does not cancel it); the log line waits for it. */
export function runAfterAnswer(c: Context<AppEnv>, work: Promise<unknown>): void {
  c.var.lateWork.push(work);
  c.executionCtx.waitUntil(work);
}

/** Waits until every promise in `pending` has settled, including those added meanwhile. */
async function settled(pending: Promise<unknown>[]): Promise<void> {
  for (let seen = 0; seen < pending.length;) {
    const batch = pending.slice(seen);
    seen = pending.length;
    await Promise.allSettled(batch);
  }
}

/**
 * Checks the caller token on protected routes (see auth.ts for the accepted
 * forms), then the caller's rate limit, keyed by the token's id. Failed
 * authentication is limited too, per client address, so guessing is slowed;
 * a valid token is never counted there, so it is never refused for others' failures.
 */
export const requireCaller = createMiddleware<AppEnv>(async function requireCaller(c, next) {
  const { config } = c.var;
  const table = config.tenants;
  // A TENANTS that does not parse fails every token closed, AUTH_TOKENS included: never the shared space.
  if (table instanceof TenantConfigError) throw new AppError("not_configured", table.message);
  let index: number;
  try {
    index = await matchToken(c.req.raw, table.tokens);
  } catch (error) {
    const client = c.req.header("CF-Connecting-IP") ?? "unknown";
    if (error instanceof UnauthorizedError && !(await allowed(c.env.AUTH_FAILURE_LIMITER, `ip:${client}`))) {
      throw new AppError("rate_limited", "Too many failed authentications from this address; retry later.", {
        retryAfter: config.rateLimitPeriodSeconds,
      });
    }
    throw error;
  }
  const caller = await callerId(table.tokens[index] ?? "");
  const tenant = table.tenants[index] ?? {
    name: null,
    scopes: new Set(),
    memosApiKey: undefined,
    memosBaseUrl: undefined,
  };
  c.set("caller", caller);
  c.set("tenant", tenant);
  // Per tenant, so rotating a tenant's token never makes an add twice; per token in the shared space (as ever).
  c.set("dedupeScope", tenant.name === null ? caller : `tenant-${tenant.name}`);
  if (table.names.length > 0) c.set("backend", tenantBackend(c.env, config, tenant, table.names));
  if (!(await allowed(c.env.RATE_LIMITER, caller))) {
    throw new AppError("rate_limited", "Too many requests for this caller token; retry later.", {
      retryAfter: config.rateLimitPeriodSeconds,
    });
  }
  await next();
});

/** Refuses (403 `forbidden_scope`) a caller whose token lacks `scope`. */
export function need(c: Context<AppEnv>, scope: Scope): void {
  if (!c.var.tenant.scopes.has(scope)) {
    throw new AppError("forbidden_scope", `This token may not ${SCOPE_VERBS[scope]}: it lacks the "${scope}" scope.`);
  }
}

const SCOPE_VERBS: Record<Scope, string> = {
  read: "read memories (search, list, get)",
  write: "write memories (add, update, feedback)",
  delete: "delete memories (delete, forget)",
};

/**
 * Backends hold no request state, so each is built once per isolate and
 * configuration (the env object lives as long as the isolate), not per request.
 */
const sharedBackends = new WeakMap<Config, MemoryBackend>();
const tenantBackends = new WeakMap<Tenant, MemoryBackend>();

function sharedBackend(env: Bindings, config: Config): MemoryBackend {
  let backend = sharedBackends.get(config);
  if (backend === undefined) sharedBackends.set(config, (backend = backendFor(env, config)));
  return backend;
}

function tenantBackend(env: Bindings, config: Config, tenant: Tenant, names: string[]): MemoryBackend {
  let backend = tenantBackends.get(tenant);
  if (backend === undefined) tenantBackends.set(tenant, (backend = backendFor(env, config, tenant, names)));
  return backend;
}

/** Optional: a deploy without the [[ratelimits]] block runs unlimited. */
async function allowed(limiter: RateLimit | undefined, key: string): Promise<boolean> {
  return limiter === undefined || (await limiter.limit({ key })).success;
}

/** CORS for browser callers, only for the origins in CORS_ORIGINS; off when it is empty. */
export const corsFromConfig = createMiddleware<AppEnv>(async function corsFromConfig(c, next) {
  const origins = c.var.config.corsOrigins;
  if (origins.length === 0) return next();
  const handler = cors({
    origin: (origin) => (origins.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: [
      "Authorization",
      "Content-Type",
      "X-API-Key",
      "Idempotency-Key",
      "X-Request-Id",
      // Browser MCP clients (/mcp)
      "Mcp-Protocol-Version",
      "X-Memos-User-Id",
    ],
    exposeHeaders: ["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
    maxAge: 600,
  });
  return handler(c, next);
});

/**
 * 405 with `Allow` for a path of `app` asked with a method it does not take,
 * thrown so the app's own `onError` answers in its dialect.
 */
export function allowedMethods(app: Hono<AppEnv>) {
  return methodNotAllowed({
    app,
    onMethodNotAllowed: (c, allow) => {
      throw new AppError("method_not_allowed", `${c.req.method} is not allowed here; use ${allow.join(" or ")}.`, {
        allow,
      });
    },
  });
}
