/**
 * memos-edge: MemOS add and search as HTTPS webhooks for Dify and no-code tools.
 * This file only wires; every route is listed here. Each surface is a sub-app
 * that answers its own errors in its own dialect.
 */
import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import type { AppEnv, Bindings } from "./env";
import { difyExtension } from "./handlers/dify-extension";
import { difyKnowledge } from "./handlers/dify-knowledge";
import { health } from "./handlers/health";
import { mcp } from "./handlers/mcp";
import { MEMOS_PREFIX, memosCompat, memosErrorResponse } from "./handlers/memos-compat";
import { openapi } from "./handlers/openapi";
import { setup } from "./handlers/setup";
import { v1 } from "./handlers/v1";
import { AppError, errorResponse, noteError } from "./http/errors";
import { corsFromConfig, requestContext, requestIds } from "./http/middleware";
import { consumeAdds } from "./queue/consumer";

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

app.use("*", requestIds, requestContext, corsFromConfig);

app.route("/", setup); //         GET  / (setup page), GET /setup/dify-chatflow.yml
app.route("/", health); //        GET  /health
app.route("/", openapi); //       GET  /openapi.json (Dify custom tool)
app.route("/", v1); //            POST /v1/add, POST /v1/search, memory management, POST /v1/queue/* (dead letters)
app.route("/", difyExtension); // POST /dify/extension (API extension); before difyKnowledge, which takes /dify/*
app.route("/", difyKnowledge); // POST /dify/retrieval (External Knowledge)
app.route("/", memosCompat); //   POST /api/openmem/v1/add/message, POST /api/openmem/v1/search/memory (MemOS drop-in)
app.route("/", mcp); //           POST /mcp (remote MCP server); /.well-known/oauth-* stay 404 on purpose (handlers/mcp.ts)

/** A path no route knows still gets the dialect its prefix promises. */
app.notFound((c) => {
  const path = normalizedPath(c.req.raw);
  const error = noteError(c, new AppError("not_found", `No route ${c.req.method} ${path}.`));
  if (path.startsWith(`${MEMOS_PREFIX}/`) || path.startsWith("/api/openmem/")) return memosErrorResponse(c, error);
  if (path.startsWith("/dify/")) return errorResponse(c, error, { error_code: 404, error_msg: error.message });
  return errorResponse(c, error);
});

app.onError((error, c) => errorResponse(c, noteError(c, error)));

export { DedupeLock } from "./dedupe/lock";
export { app };
/** HTTP through the app; queued adds and their dead letters through the consumer (src/queue/). */
export default { fetch: app.fetch, queue: consumeAdds } satisfies ExportedHandler<Bindings>;
