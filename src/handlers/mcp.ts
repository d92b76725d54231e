/**
 * `POST /mcp`: memos-edge as a remote MCP server (Streamable HTTP transport,
 * stateless, plain JSON answers) for Dify's MCP tools, Cursor, Claude, n8n and
 * any agent framework. docs/mcp.md has the set-up per client.
 *
 * - Stateless: every POST is authenticated on its own and gets a new server
 *   and transport (a stateless SDK transport refuses reuse); no session id.
 * - Auth: the caller token in any form `requireCaller` reads (`?key=` too:
 *   Dify before 1.9 cannot set headers). A missing or wrong token is HTTP 401
 *   with a JSON-RPC error body and no `WWW-Authenticate`, and no OAuth
 *   metadata is served (`/.well-known/oauth-*` answer 404): the SDK client then
 *   fails at connect with the message, and Dify marks the server as needing
 *   authorization, instead of either starting an OAuth flow that cannot end.
 * - Errors: a tool's failure is a tool result with `isError` (../mcp/context.ts);
 *   a request the transport cannot take (malformed JSON, wrong Content-Type, a
 *   version it does not speak) is the transport's JSON-RPC error; what fails
 *   before the transport (auth, rate limit, a bad fixed user) is a JSON-RPC
 *   error made here. Never a 404 (Dify reads it as "session terminated").
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { AppError, errorResponse, noteError } from "../http/errors";
import { requireCaller } from "../http/middleware";
import { MAX_ID_LENGTH } from "../http/schemas";
import { buildMcpServer } from "../mcp/server";

export const mcp = new Hono<AppEnv>();

mcp.onError((error, c) => jsonRpcErrorResponse(c, noteError(c, error)));

/** JSON-RPC's "server error" range; the SDK transport uses the same code for its HTTP-level refusals. */
const SERVER_ERROR = -32000;
const INTERNAL_ERROR = -32603;

/** The header or `?user_id=` on the MCP URL that fixes whose memory every tool call reads and writes. */
export const FIXED_USER_HEADER = "X-Memos-User-Id";

mcp.post("/mcp", requireCaller, async (c) => {
  const server = buildMcpServer({ c, fixedUser: fixedUser(c) });
  const transport = new WebStandardStreamableHTTPServerTransport({
    // Stateless: no `sessionIdGenerator` (with exactOptionalPropertyTypes, `undefined` does not typecheck).
    enableJsonResponse: true,
    maxRequestBodySize: c.var.config.maxBodyBytes,
  });
  await server.connect(transport);
  // With JSON responses this settles once every request in the body is answered.
  const response = await transport.handleRequest(withMcpAccept(c.req.raw));
  c.executionCtx.waitUntil(server.close());
  return response;
});

// The SDK transport would answer GET (with `Accept: text/event-stream`) with an SSE stream that
// never ends, and DELETE with 200; a stateless server offers neither. The SDK client reads 405
// on GET as "no stream", and Dify opens none without a session id.
mcp.all("/mcp", () => {
  throw new AppError("method_not_allowed", "This MCP endpoint is stateless: send JSON-RPC messages with POST.", {
    allow: ["POST"],
  });
});

/**
 * The user fixed by the connection's configuration, if any. Both ways must
 * agree when both are given: a URL for one user with a header for another is
 * a configuration mistake, not something to settle silently.
 */
function fixedUser(c: Context<AppEnv>): string | undefined {
  const fromHeader = c.req.header(FIXED_USER_HEADER)?.trim() || undefined;
  const fromQuery = c.req.query("user_id")?.trim() || undefined;
  if (fromHeader !== undefined && fromQuery !== undefined && fromHeader !== fromQuery) {
    throw new AppError("invalid_request", `${FIXED_USER_HEADER} and ?user_id= name different users; set one.`, {
      field: "user_id",
    });
  }
  const user = fromHeader ?? fromQuery;
  if (user !== undefined && user.length > MAX_ID_LENGTH) {
    throw new AppError("invalid_request", `user_id must be at most ${MAX_ID_LENGTH} characters`, { field: "user_id" });
  }
  return user;
}

/**
 * The transport answers 406 unless Accept lists both application/json and
 * text/event-stream (the spec's MUST for clients). This endpoint only ever
 * answers JSON, so a client that sends `application/json`, `*\/*` or no Accept
 * is served too.
 */
function withMcpAccept(request: Request): Request {
  const accept = request.headers.get("Accept") ?? "";
  if (accept.includes("application/json") && accept.includes("text/event-stream")) return request;
  const headers = new Headers(request.headers);
  headers.set("Accept", "application/json, text/event-stream");
  return new Request(request, { headers });
}

/**
 * MCP's dialect for a failure before the transport: a JSON-RPC error with
 * the memos-edge code in `data`, the HTTP status of the failure (401, 429,
 * 503, …). A fault of our own is 503 rather than 500: an MCP client treats any
 * non-2xx as a failed call either way, and the log line keeps the detail.
 */
function jsonRpcErrorResponse(c: Context<AppEnv>, error: AppError): Response {
  const internal = error.code === "internal_error";
  const body = {
    jsonrpc: "2.0",
    error: {
      code: internal ? INTERNAL_ERROR : SERVER_ERROR,
      message: error.message,
      data: { code: error.code, ...(error.retryAfter === undefined ? {} : { retry_after: error.retryAfter }) },
    },
    id: null,
  };
  return errorResponse(c, error, body, internal ? 503 : error.status);
}
