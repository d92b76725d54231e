/** `/v1/add` and `/v1/search`: the webhook surface for Dify HTTP nodes, custom tools and n8n/Zapier/Make. */
import { Hono, type Context } from "hono";
import { addOnce } from "../dedupe/add-once";
import type { AppEnv } from "../env";
import { errorResponse, noteError } from "../http/errors";
import { readInput } from "../http/input";
import { allowedMethods, requireCaller, need } from "../http/middleware";
import { addRequestSchema, searchRequestSchema } from "../http/schemas";
import { shapeAdd, shapeQueuedAdd, shapeSearch } from "../memos/answers";
import { buildAddRequest, buildSearchRequest } from "../memos/requests";
import { deliveryOf, enqueueAdd } from "../queue/enqueue";
import { v1Memories } from "./v1-memories";
import { v1Queue } from "./v1-queue";

export const v1 = new Hono<AppEnv>();

v1.use("/v1/*", allowedMethods(v1), requireCaller);
v1.onError((error, c) => errorResponse(c, noteError(c, error)));
v1.route("/", v1Memories); // list, get, delete, forget, update, status, feedback, messages
v1.route("/", v1Queue); // queue/dead-letters, queue/requeue

v1.post("/v1/add", async (c) => {
  need(c, "write");
  const input = await readInput(c, addRequestSchema);
  const { request, idempotencyKey, delivery } = buildAddRequest(input, c.var.config);
  if (deliveryOf(c, delivery) === "queued") {
    const { task, replayed } = await enqueueAdd(c, request, idempotencyKey);
    return c.json({ ok: true, ...shapeQueuedAdd(request, task, replayed) }, 202);
  }
  const outcome = await addOnce(c, request, idempotencyKey);
  return c.json({ ok: true, ...shapeAdd(request, outcome.result, outcome.replayed) });
});

v1.post("/v1/search", async (c) => {
  need(c, "read");
  const { backend } = c.var;
  const input = await readInput(c, searchRequestSchema);
  const { request, warnings } = buildSearchRequest(input, backend.maxSearchLimit);
  const { data } = await backend.search(request);
  const { memories, text } = shapeSearch(data);
  if (wantsText(c)) return c.body(text, 200, { "Content-Type": "text/plain; charset=utf-8" });
  return c.json({ ok: true, text, memories, count: memories.length, ...(warnings.length > 0 ? { warnings } : {}) });
});

/** Which tenant and scopes the caller's token has (the setup page shows them); never the token. */
v1.post("/v1/whoami", (c) => {
  const { tenant } = c.var;
  const scopes = [...tenant.scopes];
  const space = tenant.name === null ? "the shared memory space" : `tenant ${tenant.name}`;
  return c.json({
    ok: true,
    tenant: tenant.name,
    scopes,
    text: `This token works in ${space} and may ${scopes.join(", ")}.`,
  });
});

/** `?format=text`, or an Accept that asks for text/plain and not JSON. */
function wantsText(c: Context<AppEnv>): boolean {
  const format = c.req.query("format");
  if (format !== undefined) return format.toLowerCase() === "text";
  const accept = (c.req.header("Accept") ?? "").toLowerCase();
  return accept.includes("text/plain") && !accept.includes("json");
}
