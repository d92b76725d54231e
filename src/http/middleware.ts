/** Request-scoped wiring shared by every route. */
import type { Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { readConfig } from "../config";
import type { AppEnv } from "../env";
import { backendFor } from "../memos/backend";
import { authenticate } from "./auth";
import { AppError } from "./errors";

/** An incoming X-Request-Id is kept when it is short and plain; otherwise one is made up. */
export const requestIds = requestId({ limitLength: 128 });

/** Sets the parsed config and the backend, and writes one JSON log line per request. */
export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  const config = readConfig(c.env);
  c.set("config", config);
  c.set("backend", backendFor(c.env, config));
  c.set("log", {});
  await next();
  // Dify decodes by the declared charset and guesses without one.
  const type = c.res.headers.get("Content-Type");
  if (type?.startsWith("application/json") && !/charset=/i.test(type))
    c.header("Content-Type", `${type}; charset=utf-8`);
  // Tokens, keys and message contents never reach this line.
  console.log(
    JSON.stringify({
      request_id: c.var.requestId,
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
