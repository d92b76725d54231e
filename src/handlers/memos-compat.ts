/**
 * MemOS's own cloud API, so the official MemOS Dify plugin and MemOS clients
 * work by pointing their base URL at https://<worker>/api/openmem/v1 and
 * using a memos-edge caller token as their key. Only these routes (and the
 * memory-management ones of memos-compat-manage.ts) exist:
 * any other path under the prefix is a 404, never forwarded (no open proxy).
 * Errors are MemOS envelopes: `{ code: <non-zero>, message, data: null }`.
 */
import { Hono, type Context } from "hono";
import * as z from "zod";
import { addOnce } from "../dedupe/add-once";
import type { AppEnv } from "../env";
import { AppError, errorResponse, noteError, type ErrorCode } from "../http/errors";
import { optionalInt, optionalText, requiredText } from "../http/fields";
import { readInput, throwInvalid } from "../http/input";
import { allowedMethods, requireCaller, need } from "../http/middleware";
import { MAX_FREE_TEXT, MAX_ID_LENGTH, messagesField, userIdsField } from "../http/schemas";
import { MemosError } from "../memos/errors";
import { buildCompatAddRequest, buildCompatSearchRequest } from "../memos/requests";
import { deliveryOf, enqueueAdd } from "../queue/enqueue";
import { memosManagement } from "./memos-compat-manage";

export const MEMOS_PREFIX = "/api/openmem/v1";

export const memosCompat = new Hono<AppEnv>();

memosCompat.use(`${MEMOS_PREFIX}/*`, allowedMethods(memosCompat), requireCaller);
memosCompat.onError((error, c) => memosErrorResponse(c, noteError(c, error)));
// get/memory, get/memory/{id}, delete/memory, update/memory, get/status, add/feedback, get/message
memosCompat.route(MEMOS_PREFIX, memosManagement);

const idField = (field: string) => optionalText(field, MAX_ID_LENGTH, field);

/** MemOS's add body: the fields we check, everything else passed through untouched. */
const memosAddSchema = z.looseObject({
  user_id: userIdsField(false),
  agent_id: idField("agent_id"),
  conversation_id: idField("conversation_id"),
  messages: messagesField,
  // The MemOS plugin 0.0.4's names; folded into messages like MemOS clients expect.
  user_messages: optionalText("user_messages", MAX_FREE_TEXT, ""),
  ai_messages: optionalText("ai_messages", MAX_FREE_TEXT, ""),
});
export type MemosCompatAdd = z.infer<typeof memosAddSchema>;

const memosSearchSchema = z.looseObject({
  query: requiredText("query", MAX_FREE_TEXT, "What to recall."),
  // Checked as a whole number only; its range is MemOS's (or the embedded store's) to enforce.
  memory_limit_number: optionalInt("memory_limit_number", 1, 1_000, "How many memories at most."),
  user_id: idField("user_id"),
  agent_id: idField("agent_id"),
  conversation_id: idField("conversation_id"),
});
export type MemosCompatSearch = z.infer<typeof memosSearchSchema>;

memosCompat.post(`${MEMOS_PREFIX}/add/message`, async (c) => {
  need(c, "write");
  const input = await readInput(c, memosAddSchema);
  if (input.user_id === undefined && input.agent_id === undefined) throwInvalid("user_id is required", "user_id");
  const request = buildCompatAddRequest(input, c.var.config);
  // The body is MemOS's own and passed through, so only the header (or ADD_DELIVERY) asks for queueing.
  if (deliveryOf(c) === "queued") {
    const { task } = await enqueueAdd(c, request);
    // The official client requires success, task_id and status to be non-null.
    return c.json(
      { code: 0, message: "queued", data: { success: true, task_id: task.task_id, status: task.status } },
      202,
    );
  }
  const outcome = await addOnce(c, request);
  return c.json({ code: 0, message: outcome.result.message, data: outcome.result.data });
});

memosCompat.post(`${MEMOS_PREFIX}/search/memory`, async (c) => {
  need(c, "read");
  const input = await readInput(c, memosSearchSchema);
  if (input.user_id === undefined && input.agent_id === undefined) throwInvalid("user_id is required", "user_id");
  const { message, data } = await c.var.backend.search(buildCompatSearchRequest(input));
  return c.json({ code: 0, message, data });
});

const SUCCESS_CODES = new Set([0, 200]);

/** Non-zero envelope codes for MemOS-compatible callers, in MemOS's own numbering where one exists. */
const MEMOS_CODES: Record<ErrorCode, number> = {
  invalid_request: 40000,
  invalid_json: 40000,
  upstream_rejected: 40000,
  unauthorized: 40132,
  forbidden_scope: 40301,
  not_found: 40400,
  method_not_allowed: 40500,
  add_in_progress: 40900,
  payload_too_large: 41300,
  unsupported_media_type: 41500,
  idempotency_key_reused: 42200,
  rate_limited: 40300,
  upstream_rate_limited: 40300,
  internal_error: 50000,
  upstream_auth: 50200,
  upstream_error: 50200,
  not_configured: 50300,
  store_unavailable: 50300,
  dedupe_unavailable: 50300,
  queue_unavailable: 50300,
  upstream_timeout: 50400,
};

/**
 * MemOS answered in its own words: a MemOS client gets that answer, status and
 * envelope, as MemOS gave it (key redacted). Not when MemOS refused our key:
 * the caller's token was fine, so that is our 502, and MemOS's own 40132 would
 * wrongly tell a MemOS client its key is bad.
 */
export function memosErrorResponse(c: Context, error: AppError): Response {
  const upstream = error.cause instanceof MemosError ? error.cause : undefined;
  if (upstream?.envelope && upstream.httpStatus !== undefined && error.code !== "upstream_auth") {
    // An error answer never carries a success code, whatever MemOS put in it.
    const envelopeCode = SUCCESS_CODES.has(upstream.envelope.code) ? MEMOS_CODES[error.code] : upstream.envelope.code;
    return errorResponse(c, error, { ...upstream.envelope, code: envelopeCode }, upstream.httpStatus);
  }
  const code =
    error.code === "upstream_auth" ? MEMOS_CODES.upstream_auth : (upstream?.memosCode ?? MEMOS_CODES[error.code]);
  return errorResponse(c, error, { code, message: error.message, data: null });
}
