/**
 * Request schemas of the `/v1` routes: the single source of the validation,
 * the TypeScript types and the OpenAPI document (`/openapi.json`).
 */
import * as z from "zod";
import {
  isAbsent,
  parseJsonOr,
  optionalChoice,
  optionalBoolean,
  optionalInt,
  optionalList,
  optionalNumber,
  optionalObject,
  optionalText,
  optionalIdList,
  optionalId,
  requiredId,
  requiredText,
} from "./fields";
import { MEMORY_STATUSES, MEMOS_ROLES } from "../memos/types";

/** MemOS refuses ids longer than this (codes 40010/40011); we refuse first, naming the field. */
export const MAX_ID_LENGTH = 100;
/** MemOS's group-chat limit. */
export const MAX_GROUP_USERS = 20;
/**
 * Ceiling for free text before the configured MAX_MESSAGE_CHARS is checked (when
 * the add is built); the body cap (MAX_BODY_BYTES) bounds it first in practice.
 */
export const MAX_FREE_TEXT = 10_000_000;
export const MAX_TOP_K = 50;
export const DEFAULT_TOP_K = 10;

const messageSchema = z.looseObject({
  role: z.enum(MEMOS_ROLES, { error: `role must be one of ${MEMOS_ROLES.join(", ")}` }),
  // Empty content is allowed here and dropped when the add is built (an empty AI reply is not an error).
  content: z.union([z.string(), z.array(z.unknown())], { error: "content must be a string or a list of parts" }),
  chat_time: optionalText("chat_time", 64, "When the message was said (ISO 8601)."),
  role_id: optionalText("role_id", MAX_ID_LENGTH, "Speaker id in a group chat."),
  role_name: optionalText("role_name", MAX_ID_LENGTH, "Speaker name in a group chat."),
});
export type MessageInput = z.infer<typeof messageSchema>;

/** An array, a JSON string of one, or plain text (one user message) — every form the MemOS plugin takes. */
export const messagesField = z
  .preprocess(
    (value) => {
      if (isAbsent(value)) return undefined;
      if (typeof value !== "string") return value;
      const text = value.trim();
      if (text.startsWith("[")) {
        // Text that is not a JSON list after all is the message itself.
        const parsed = parseJsonOr(text, undefined);
        if (Array.isArray(parsed)) return parsed;
      }
      return [{ role: "user", content: value }];
    },
    z.array(messageSchema, { error: "messages must be a list of {role, content}" }).optional(),
  )
  .meta({
    type: "string",
    description:
      'The conversation: a JSON array of {"role": "user"|"assistant"|"system", "content": "..."}, or plain text stored as one user message.',
  });

/** A user id, or for a group chat a list of them (a JSON array string in form bodies). */
export function userIdsField(required: boolean) {
  const ids = z.union(
    [
      z
        .string()
        .trim()
        .min(1, "user_id is required")
        .max(MAX_ID_LENGTH, `user_id must be at most ${MAX_ID_LENGTH} characters`),
      z
        .array(
          z
            .string()
            .trim()
            .min(1, "user_id must not hold empty ids")
            .max(MAX_ID_LENGTH, `each user_id must be at most ${MAX_ID_LENGTH} characters`),
        )
        .min(1, "user_id is required")
        .max(MAX_GROUP_USERS, `user_id takes at most ${MAX_GROUP_USERS} ids`),
    ],
    {
      error: (issue) =>
        issue.input === undefined ? "user_id is required" : "user_id must be a string or a list of strings",
    },
  );
  return z
    .preprocess(
      (value) => {
        if (isAbsent(value)) return undefined;
        if (typeof value === "number") return String(value);
        if (typeof value === "string" && value.trim().startsWith("[")) return parseJsonOr(value.trim(), value);
        return value;
      },
      required ? ids : ids.optional(),
    )
    .meta({
      type: "string",
      description: `Whose memory this is (at most ${MAX_ID_LENGTH} characters). For a group chat, a JSON array of up to ${MAX_GROUP_USERS} ids.`,
    });
}

const idempotencyKeyField = optionalText(
  "idempotency_key",
  200,
  "Makes retries safe: the same key adds once. In Dify use {{#sys.workflow_run_id#}}. The Idempotency-Key header does the same.",
);

export const addRequestSchema = z.object({
  user_id: userIdsField(true),
  conversation_id: optionalText(
    "conversation_id",
    MAX_ID_LENGTH,
    "Groups the messages of one conversation. MemOS makes one up when absent.",
  ),
  messages: messagesField,
  user_message: optionalText("user_message", MAX_FREE_TEXT, "What the user said (added before assistant_message)."),
  assistant_message: optionalText("assistant_message", MAX_FREE_TEXT, "What the assistant answered."),
  user_messages: optionalText("user_messages", MAX_FREE_TEXT, "Same as user_message (the MemOS plugin 0.0.4 name)."),
  ai_messages: optionalText("ai_messages", MAX_FREE_TEXT, "Same as assistant_message (the MemOS plugin 0.0.4 name)."),
  idempotency_key: idempotencyKeyField,
  agent_id: optionalText("agent_id", MAX_ID_LENGTH, "Keeps memories of different agents of one user apart."),
  app_id: optionalText("app_id", MAX_ID_LENGTH, "The app the memory belongs to."),
  tags: optionalList("tags", 50, 100, "Tags for the memory: comma-separated or a JSON array."),
  info: optionalObject("info", "Custom fields as a JSON object (string, number or string-list values)."),
  allow_public: optionalBoolean("allow_public", "Whether the memory may be public (MemOS default false)."),
  allow_knowledgebase_ids: optionalList(
    "allow_knowledgebase_ids",
    50,
    100,
    "Knowledge bases the memory may be written to.",
  ),
  async_mode: optionalBoolean("async_mode", "MemOS extracts memories in the background (default true)."),
  allow_memory_view: optionalBoolean("allow_memory_view", "Let MemOS build memory views from this add."),
  source: optionalText("source", 100, "Who wrote the memory (default memos-edge)."),
  delivery: optionalChoice(
    "delivery",
    ["direct", "queued"] as const,
    'queued: answer 202 at once and deliver the add when the backend can take it (README "Queued adds"); default ADD_DELIVERY.',
  ),
});
export type AddRequest = z.infer<typeof addRequestSchema>;

export const searchRequestSchema = z.object({
  user_id: requiredText("user_id", MAX_ID_LENGTH, "Whose memory to search."),
  query: requiredText("query", MAX_FREE_TEXT, "What to recall, usually the user's latest message."),
  conversation_id: optionalText("conversation_id", MAX_ID_LENGTH, "Only this conversation's memories."),
  top_k: optionalInt(
    "top_k",
    1,
    MAX_TOP_K,
    `How many memories at most (default ${DEFAULT_TOP_K}; MemOS serves at most 25).`,
  ),
  agent_id: optionalText("agent_id", MAX_ID_LENGTH, "Only this agent's memories."),
  app_id: optionalText("app_id", MAX_ID_LENGTH, "Only this app's memories."),
  tags: optionalList("tags", 20, 100, "Only memories carrying each of these tags: comma-separated or a JSON array."),
  filter: optionalObject(
    "filter",
    'A MemOS filter as a JSON object, e.g. {"and": [{"tags": {"contains": "travel"}}]}.',
  ),
  include_memory_view: optionalList(
    "include_memory_view",
    10,
    40,
    "MemOS views to include: detail_factual, preference, skill, profile, event, tool_memory.",
  ),
  include_preference: optionalBoolean("include_preference", "Also recall preferences (default true)."),
  preference_limit_number: optionalInt("preference_limit_number", 0, 25, "How many preferences at most."),
  relativity: optionalNumber("relativity", 0, 1, "Minimum relevance, 0 to 1 (0 turns the threshold off)."),
  knowledgebase_ids: optionalList("knowledgebase_ids", 50, 100, "Knowledge bases to search as well."),
  source: optionalText("source", 100, "Who is asking (default memos-edge)."),
});
export type SearchRequest = z.infer<typeof searchRequestSchema>;

/** MemOS's largest page (`size` of get/memory) and message window (`message_limit_number`). */
export const MAX_PAGE_SIZE = 50;
/**
 * Where a backend must read each id before deleting it (ownership), every id is
 * one outbound call; with the 16 lock calls of a delete this stays within the
 * Workers Free plan's 50 subrequests per request.
 */
export const MAX_DELETE_IDS = 30;
const userField = (description: string) => requiredText("user_id", MAX_ID_LENGTH, description);

export const listRequestSchema = z.object({
  user_id: userField("Whose memories to list."),
  page: optionalInt("page", 1, 100_000, "Page number, from 1 (default 1)."),
  size: optionalInt("size", 1, MAX_PAGE_SIZE, `Memories per page (default 10, at most ${MAX_PAGE_SIZE}).`),
  agent_id: optionalText("agent_id", MAX_ID_LENGTH, "Only this agent's memories."),
  tags: optionalList("tags", 20, 100, "Only memories carrying each of these tags."),
});
export type ListRequest = z.infer<typeof listRequestSchema>;

export const getRequestSchema = z.object({
  memory_id: requiredId("memory_id", "The memory to read."),
  user_id: optionalText("user_id", MAX_ID_LENGTH, "Whose memory it must be: another user's is not found."),
});

export const deleteRequestSchema = z.object({
  memory_ids: optionalIdList("memory_ids", MAX_DELETE_IDS, "Memories to delete: a JSON array or comma-separated ids."),
  user_id: optionalText(
    "user_id",
    MAX_ID_LENGTH,
    "With memory_ids: only this user's are deleted. With conversation_id: that conversation of this user.",
  ),
  conversation_id: optionalText(
    "conversation_id",
    MAX_ID_LENGTH,
    "Delete this conversation's memories (needs user_id).",
  ),
  agent_id: optionalText("agent_id", MAX_ID_LENGTH, "Delete everything this agent remembers."),
});
export type DeleteRequest = z.infer<typeof deleteRequestSchema>;

export const forgetRequestSchema = z.object({
  user_id: userField("The user whose whole memory is deleted."),
  dry_run: optionalBoolean("dry_run", "true: only count what would be deleted."),
});

export const updateRequestSchema = z.object({
  memory_id: requiredId("memory_id", "The memory to change."),
  user_id: optionalText("user_id", MAX_ID_LENGTH, "Whose memory it must be: another user's is not found."),
  content: optionalText("content", MAX_FREE_TEXT, "The corrected text (searchable at once)."),
  title: optionalText("title", 200, "A new title."),
  status: z
    .preprocess((value) => (isAbsent(value) ? undefined : value), z.enum(MEMORY_STATUSES).optional())
    .meta({ type: "string", enum: [...MEMORY_STATUSES], description: "archived: kept but not recalled." }),
});

export const statusRequestSchema = z.object({
  task_id: requiredId("task_id", "The task id an add or feedback answered."),
});

export const feedbackRequestSchema = z.object({
  user_id: userField("Whose memory the feedback is about."),
  feedback: requiredText("feedback", MAX_FREE_TEXT, "What to correct, in plain words."),
  conversation_id: optionalText("conversation_id", MAX_ID_LENGTH, "The conversation it is about."),
  agent_id: optionalText("agent_id", MAX_ID_LENGTH, "The agent it is about."),
  app_id: optionalText("app_id", MAX_ID_LENGTH, "The app it is about."),
});

export const messagesRequestSchema = z.object({
  user_id: userField("Whose conversation."),
  conversation_id: requiredText("conversation_id", MAX_ID_LENGTH, "The conversation."),
  limit: optionalInt("limit", 1, MAX_PAGE_SIZE, `The newest N messages (default 6, at most ${MAX_PAGE_SIZE}).`),
});

export const deadLettersRequestSchema = z.object({
  limit: optionalInt("limit", 1, 100, "How many failed adds at most, oldest first (default 100)."),
});

export const requeueRequestSchema = z.object({
  task_ids: optionalIdList("task_ids", 100, "The failed adds to send again (a task_id or a list of them)."),
  task_id: optionalId("task_id", "One failed add to send again."),
  all: optionalBoolean("all", "true: send every failed add of this caller again (up to 100 per call)."),
});
