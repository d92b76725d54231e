/** Request-scoped wiring shared by every route. */
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";
import { authenticate } from "./auth";
import { backendFor } from "./select-backend";
import { readConfig } from "./config";
import { AppError, toAppError } from "./errors";

/** Sets the request id, the parsed config and the backend, and writes one JSON log line per request. */
export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  const incoming = c.req.header("X-Request-Id");
  const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID();
  const config = readConfig(c.env);
  c.set("requestId", requestId);
  c.set("config", config);
  c.set("backend", backendFor(c.env, config));
  c.set("log", {});
  await next();
  c.header("X-Request-Id", requestId);
  // Dify decodes by the declared charset and guesses without one.
  const type = c.res.headers.get("Content-Type");
  if (type?.startsWith("application/json") && !/charset=/i.test(type))
    c.header("Content-Type", `${type}; charset=utf-8`);
  // Tokens, keys and message contents never reach this line.
  console.log(
    JSON.stringify({
      request_id: requestId,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      duration_ms: Date.now() - started,
      backend: c.var.backend.kind,
      ...c.var.log,
    }),
  );
});

/** The rate limiter's period in wrangler.toml; a limited caller may retry after at most this. */
const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Checks the caller token on protected routes (see auth.ts for the accepted
 * forms), then the caller's rate limit, keyed by the token's id.
 */
export const requireCaller = createMiddleware<AppEnv>(async function requireCaller(c, next) {
  const caller = await authenticate(c.req.raw, c.var.config.authTokens);
  c.set("caller", caller);
  // Optional: a deploy without the [[ratelimits]] block runs unlimited.
  const limiter: RateLimit | undefined = c.env.RATE_LIMITER;
  if (limiter && !(await limiter.limit({ key: caller })).success) {
    throw new AppError("rate_limited", "Too many requests for this caller token; retry later.", {
      retryAfter: RATE_LIMIT_PERIOD_SECONDS,
    });
  }
  await next();
});

/** CORS for browser callers, only for the origins in CORS_ORIGINS; off when it is empty. */
export const corsFromConfig = createMiddleware<AppEnv>(async function corsFromConfig(c, next) {
  const origins = c.var.config.corsOrigins;
  if (origins.length === 0) return next();
  const handler = cors({
    origin: (origin) => (origins.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "X-API-Key", "Idempotency-Key", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
    maxAge: 600,
  });
  return handler(c, next);
});

/** Answers 405 with `Allow` for a known path asked with another method. */
export function methodNotAllowed(...allow: string[]) {
  return createMiddleware<AppEnv>(async function methodNotAllowed(c) {
    throw new AppError("method_not_allowed", `${c.req.method} is not allowed here; use ${allow.join(" or ")}.`, {
      allow,
    });
  });
}

/** Notes an error's facts for the log line, without its message (which may quote input). */
export function noteError(log: AppEnv["Variables"]["log"], error: unknown): AppError {
  const appError = toAppError(error);
  log.error_code = appError.code;
  if (appError.upstreamStatus !== undefined) log.upstream_status = appError.upstreamStatus;
  return appError;
}
