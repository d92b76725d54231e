/** `/v1/add` and `/v1/search`: the webhook surface for Dify HTTP nodes, custom tools and n8n/Zapier/Make. */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app-env";
import { readFields } from "../body";
import { addInRequest } from "./add-in-request";
import { shapeSearch } from "../format";
import { methodNotAllowed, requireCaller } from "../middleware";
import { buildAddRequest, buildSearchRequest } from "../requests";
import { addRequestSchema, searchRequestSchema } from "../schemas";
import { parseOrThrow } from "../validate";

export const memory = new Hono<AppEnv>();

memory.use("/v1/*", requireCaller);

memory.post("/v1/add", async (c) => {
  const { config } = c.var;
  const input = parseOrThrow(addRequestSchema, await readFields(c.req.raw, config.maxBodyBytes));
  const { request, idempotencyKey } = buildAddRequest(input, config);
  const outcome = await addInRequest(c, request, idempotencyKey);

  const { data } = outcome.result;
  const userIds = Array.isArray(request.user_id) ? request.user_id : [request.user_id];
  const conversationId =
    request.conversation_id ?? (typeof data.conversation_id === "string" ? data.conversation_id : null);
  const count = request.messages.length;
  const noun = count === 1 ? "message" : "messages";
  const where = conversationId ? ` (conversation ${conversationId})` : "";
  return c.json({
    ok: true,
    deduplicated: outcome.replayed,
    user_id: request.user_id,
    conversation_id: conversationId,
    message_count: count,
    task_id: data.task_id ?? null,
    status: data.status ?? null,
    text: outcome.replayed
      ? `Already added: ${count} ${noun} for ${userIds.join(", ")}${where}; this repeat was not sent again.`
      : `Added ${count} ${noun} to memory for ${userIds.join(", ")}${where}.`,
  });
});

memory.post("/v1/search", async (c) => {
  const { config, backend } = c.var;
  const input = parseOrThrow(searchRequestSchema, await readFields(c.req.raw, config.maxBodyBytes));
  const { request, warnings } = buildSearchRequest(input, backend.maxSearchLimit);
  const { data } = await backend.search(request);
  const { memories, text } = shapeSearch(data);
  if (wantsText(c)) return c.body(text, 200, { "Content-Type": "text/plain; charset=utf-8" });
  return c.json({ ok: true, text, memories, count: memories.length, ...(warnings.length > 0 ? { warnings } : {}) });
});

memory.all("/v1/add", methodNotAllowed("POST"));
memory.all("/v1/search", methodNotAllowed("POST"));

/** `?format=text`, or an Accept that asks for text/plain and not JSON. */
function wantsText(c: Context<AppEnv>): boolean {
  const format = c.req.query("format");
  if (format !== undefined) return format.toLowerCase() === "text";
  const accept = (c.req.header("Accept") ?? "").toLowerCase();
  return accept.includes("text/plain") && !accept.includes("json");
}
