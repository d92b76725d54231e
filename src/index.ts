/**
 * memos-edge: MemOS add and search as HTTPS webhooks for Dify and no-code tools.
 * This file only wires; every route is listed here.
 */
import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import type { AppEnv } from "./app-env";
import { AppError, errorResponse, errorSurfaceOf } from "./errors";
import { dify } from "./handlers/dify";
import { health } from "./handlers/health";
import { memory } from "./handlers/memory";
import { memosCompat } from "./handlers/memos-compat";
import { openapi } from "./handlers/openapi";
import { corsFromConfig, noteError, requestContext } from "./middleware";

/**
 * Dify appends `/retrieval` to an endpoint typed with a trailing slash, and the
 * MemOS plugin path-joins its URL: `//` and a trailing `/` must route like the
 * clean path (a redirect would turn Dify's POST into a body-less GET).
 */
function normalizedPath(request: Request): string {
  const path = getPath(request).replace(/\/{2,}/g, "/");
  return path.length > 1 ? path.replace(/\/$/, "") : path;
}

const app = new Hono<AppEnv>({ getPath: normalizedPath });

app.use("*", requestContext);
app.use("*", corsFromConfig);

app.route("/", health); //      GET  /health
app.route("/", openapi); //     GET  /openapi.json (Dify custom tool)
app.route("/", memory); //      POST /v1/add, POST /v1/search
app.route("/", dify); //        POST /dify/retrieval (External Knowledge), POST /dify/extension (API extension)
app.route("/", memosCompat); // POST /api/openmem/v1/add/message, POST /api/openmem/v1/search/memory (MemOS drop-in)

app.notFound((c) => {
  c.var.log.error_code = "not_found";
  const error = new AppError("not_found", `No route ${c.req.method} ${normalizedPath(c.req.raw)}.`);
  return errorResponse(error, errorSurfaceOf(normalizedPath(c.req.raw)));
});

app.onError((error, c) => {
  const appError = noteError(c.var.log ?? {}, error);
  // Faults of our own deserve the detail the caller does not get (never input: D1 and JS errors name no values).
  if (appError.code === "internal_error" || appError.code === "store_unavailable") {
    const cause = appError.code === "internal_error" ? error : appError.cause;
    console.error(JSON.stringify({ request_id: c.var.requestId, error: String(cause).slice(0, 500) }));
  }
  return errorResponse(appError, errorSurfaceOf(normalizedPath(c.req.raw)));
});

export { DedupeLock } from "./dedupe-lock";
export default app;
