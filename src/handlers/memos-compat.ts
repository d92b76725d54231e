/**
 * MemOS's own cloud API, so the official MemOS Dify plugin and MemOS clients
 * work by pointing their base URL at https://<worker>/api/openmem/v1 and
 * using a memos-edge caller token as their key. Only these two routes exist:
 * any other path under the prefix is a 404, never forwarded (no open proxy).
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app-env";
import { readFields } from "../body";
import { addInRequest } from "./add-in-request";
import { optionalInt, optionalText, requiredText } from "../fields";
import { methodNotAllowed, requireCaller } from "../middleware";
import type { MemosAddRequest, MemosSearchRequest } from "../memos/types";
import { collectMessages, dropUndefined, normalizeMessages } from "../requests";
import { MAX_FREE_TEXT, MAX_ID_LENGTH, messagesField, userIdsField } from "../schemas";
import { parseOrThrow, throwInvalid } from "../validate";

export const MEMOS_PREFIX = "/api/openmem/v1";

export const memosCompat = new Hono<AppEnv>();

memosCompat.use(`${MEMOS_PREFIX}/*`, requireCaller);

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

const memosSearchSchema = z.looseObject({
  query: requiredText("query", MAX_FREE_TEXT, "What to recall."),
  // Checked as a whole number only; its range is MemOS's (or the embedded store's) to enforce.
  memory_limit_number: optionalInt("memory_limit_number", 1, 1_000, "How many memories at most."),
  user_id: idField("user_id"),
  agent_id: idField("agent_id"),
  conversation_id: idField("conversation_id"),
});

memosCompat.post(`${MEMOS_PREFIX}/add/message`, async (c) => {
  const { config } = c.var;
  const { messages, user_messages, ai_messages, ...rest } = parseOrThrow(
    memosAddSchema,
    await readFields(c.req.raw, config.maxBodyBytes),
  );
  if (rest.user_id === undefined && rest.agent_id === undefined) throwInvalid("user_id is required", "user_id");
  const collected = collectMessages(messages, user_messages, ai_messages);
  const request: MemosAddRequest = { ...dropUndefined(rest), messages: normalizeMessages(collected, config) };

  const outcome = await addInRequest(c, request);
  return c.json({ code: 0, message: outcome.result.message, data: outcome.result.data });
});

memosCompat.post(`${MEMOS_PREFIX}/search/memory`, async (c) => {
  const { config, backend } = c.var;
  const input = parseOrThrow(memosSearchSchema, await readFields(c.req.raw, config.maxBodyBytes));
  if (input.user_id === undefined && input.agent_id === undefined) throwInvalid("user_id is required", "user_id");
  const request: MemosSearchRequest = { ...dropUndefined(input), query: input.query };
  const { message, data } = await backend.search(request);
  return c.json({ code: 0, message, data });
});

memosCompat.all(`${MEMOS_PREFIX}/add/message`, methodNotAllowed("POST"));
memosCompat.all(`${MEMOS_PREFIX}/search/memory`, methodNotAllowed("POST"));
