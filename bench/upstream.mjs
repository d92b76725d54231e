/**
 * A fake MemOS cloud API on 127.0.0.1, run as a forked child so its event
 * loop never competes with the load generator's. It answers the two calls
 * memos-edge makes with realistic payloads after a fixed latency, which the
 * parent changes over IPC between runs (the workers keep one base URL).
 *
 * IPC: parent → {latencyMs} or {stats: true}; child → {port}, {latencyMs}, {stats}.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { searchPayload } from "./text.mjs";

const API_KEY = process.env.BENCH_UPSTREAM_KEY ?? "bench-key";
const SEARCH_BODY = JSON.stringify({ code: 0, message: "ok", data: searchPayload() });
const UNAUTHORIZED_BODY = JSON.stringify({ code: 40132, message: "invalid api key", data: null });

let latencyMs = 0;
/**
 * Calls per path since the last stats request, so the parent can prove a
 * replay made none; and the conversation ids of queued adds (`q-…`, bench/cases.mjs),
 * so it can tell which of them arrived.
 */
const noCalls = () => ({ add: 0, search: 0, rejected: 0, queued: [] });
let calls = noCalls();

function send(response, status, body) {
  const reply = () => response.writeHead(status, { "Content-Type": "application/json" }).end(body);
  if (latencyMs > 0) setTimeout(reply, latencyMs);
  else reply();
}

/** Validates what a MemOS server would, so a forwarder that mangles the body shows up as errors. */
function answer(path, body) {
  if (path === "/add/message" && typeof body?.user_id === "string" && Array.isArray(body.messages)) {
    calls.add += 1;
    if (body.conversation_id?.startsWith("q-")) calls.queued.push(body.conversation_id);
    return JSON.stringify({
      code: 0,
      message: "ok",
      data: { success: true, task_id: randomUUID(), status: "running" },
    });
  }
  if (path === "/search/memory" && typeof body?.user_id === "string" && typeof body.query === "string") {
    calls.search += 1;
    return SEARCH_BODY;
  }
  return undefined;
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    if (request.headers.authorization !== `Token ${API_KEY}`) {
      calls.rejected += 1;
      return send(response, 401, UNAUTHORIZED_BODY);
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = undefined;
    }
    const ok = request.method === "POST" ? answer(request.url, body) : undefined;
    if (ok !== undefined) return send(response, 200, ok);
    calls.rejected += 1;
    send(response, 400, JSON.stringify({ code: 40000, message: `bad request to ${request.url}`, data: null }));
  });
});
// Autocannon and workerd keep connections open; never let the server be the one to drop them mid-run.
server.keepAliveTimeout = 60_000;

process.on("message", (message) => {
  if (typeof message.latencyMs === "number") {
    latencyMs = message.latencyMs;
    process.send({ latencyMs });
  }
  if (message.stats) {
    process.send({ stats: calls });
    calls = noCalls();
  }
});
// The parent going away (even by SIGKILL) closes the IPC channel: follow it.
process.on("disconnect", () => process.exit(0));

server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
