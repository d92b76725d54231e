/**
 * Turns a validated request of any surface into the MemOS request every
 * backend takes. Pure: no I/O, no Hono.
 */
import type { AddDelivery } from "../config";
import { throwInvalid } from "../http/input";
import {
  DEFAULT_TOP_K,
  type AddRequest,
  type ListRequest,
  type MessageInput,
  type SearchRequest,
} from "../http/schemas";
import type { MemosAddRequest, MemosGetMemoryRequest, MemosMessage, MemosSearchRequest } from "./types";

export const DEFAULT_SOURCE = "memos-edge";

export interface MessageLimits {
  maxMessages: number;
  maxMessageChars: number;
}

/**
 * Drops empty messages (the MemOS plugin sends an empty AI reply as `""`) and
 * stamps `chat_time` as the plugin does; callers' own times are kept.
 */
export function normalizeMessages(given: MessageInput[], limits: MessageLimits, now = new Date()): MemosMessage[] {
  const messages = given.filter((message) =>
    typeof message.content === "string" ? message.content.trim().length > 0 : message.content.length > 0,
  );
  if (messages.length === 0) throwInvalid("messages, user_message or assistant_message is required", "messages");
  if (messages.length > limits.maxMessages) {
    throwInvalid(`at most ${limits.maxMessages} messages per add (got ${messages.length})`, "messages");
  }
  const stamp = now.toISOString();
  return messages.map((message, index) => {
    const length =
      typeof message.content === "string" ? message.content.length : JSON.stringify(message.content).length;
    if (length > limits.maxMessageChars) {
      throwInvalid(
        `messages[${index}] is ${length} characters; at most ${limits.maxMessageChars} per message`,
        "messages",
      );
    }
    const out: MemosMessage = {
      ...message,
      role: message.role,
      content: message.content,
      chat_time: message.chat_time ?? stamp,
    };
    for (const key of ["role_id", "role_name"] as const) if (out[key] === undefined) delete out[key];
    return out;
  });
}

/** `messages`, then the convenience pair as one user and one assistant message. */
export function collectMessages(
  messages: MessageInput[] | undefined,
  said: string | undefined,
  answered: string | undefined,
): MessageInput[] {
  const collected = [...(messages ?? [])];
  if (said !== undefined) collected.push({ role: "user", content: said });
  if (answered !== undefined) collected.push({ role: "assistant", content: answered });
  return collected;
}

export interface BuiltAdd {
  request: MemosAddRequest;
  idempotencyKey: string | undefined;
  /** How the caller asked for it to be delivered; never sent to MemOS. */
  delivery: AddDelivery | undefined;
}

export function buildAddRequest(input: AddRequest, limits: MessageLimits): BuiltAdd {
  const {
    messages,
    user_message,
    assistant_message,
    user_messages,
    ai_messages,
    idempotency_key,
    source,
    delivery,
    ...passthrough
  } = input;
  const collected = collectMessages(messages, user_message ?? user_messages, assistant_message ?? ai_messages);
  const request: MemosAddRequest = {
    ...dropUndefined(passthrough),
    messages: normalizeMessages(collected, limits),
    source: source ?? DEFAULT_SOURCE,
  };
  if (Array.isArray(request.user_id)) request.user_id = distinct(request.user_id);
  return { request, idempotencyKey: idempotency_key, delivery };
}

export interface BuiltSearch {
  request: MemosSearchRequest;
  /** Said in the answer rather than refused (e.g. top_k above what the backend serves). */
  warnings: string[];
}

/**
 * `conditions` are AND-ed onto the caller's filter, after those the input
 * itself names (agent, app, tags): e.g. Dify's metadata conditions.
 */
export function buildSearchRequest(
  input: SearchRequest,
  maxLimit: number,
  conditions: Record<string, unknown>[] = [],
): BuiltSearch {
  const { top_k, agent_id, app_id, tags, filter, include_preference, source, ...passthrough } = input;
  const warnings: string[] = [];
  const wanted = top_k ?? DEFAULT_TOP_K;
  const limit = Math.min(wanted, maxLimit);
  if (limit < wanted) warnings.push(`top_k ${wanted} is above the backend's maximum of ${maxLimit}; ${limit} used`);

  const named: Record<string, unknown>[] = [];
  if (agent_id !== undefined) named.push({ agent_id });
  if (app_id !== undefined) named.push({ app_id });
  for (const tag of tags ?? []) named.push({ tags: { contains: tag } });

  const request: MemosSearchRequest = {
    ...dropUndefined(passthrough),
    query: input.query,
    memory_limit_number: limit,
    include_preference: include_preference ?? true,
    source: source ?? DEFAULT_SOURCE,
  };
  const merged = mergeFilter(filter, [...named, ...conditions]);
  if (merged !== undefined) request.filter = merged;
  return { request, warnings };
}

/**
 * MemOS filters hold `and`/`or` lists at the root. Our conditions are AND-ed
 * onto the caller's: appended to its `and` list, or wrapping its `or`.
 */
export function mergeFilter(
  filter: Record<string, unknown> | undefined,
  conditions: Record<string, unknown>[],
): Record<string, unknown> | undefined {
  if (conditions.length === 0) return filter;
  if (filter === undefined) return { and: conditions };
  const { and, ...rest } = filter;
  const existing = Array.isArray(and) ? and : [];
  if (Object.keys(rest).length === 0) return { and: [...existing, ...conditions] };
  return { and: [...existing, ...conditions, rest] };
}

/** A group chat that names a user twice is one add for them, not two. */
function distinct(ids: string[]): string[] {
  return [...new Set(ids)];
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** Absent optional fields are left out of the MemOS body rather than sent as null. */
export function dropUndefined<T extends Record<string, unknown>>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Defined<T>;
}

/** The MemOS-compatible add: MemOS's own body, with the plugin 0.0.4's pair folded into `messages`. */
export function buildCompatAddRequest(
  input: {
    messages?: MessageInput[] | undefined;
    user_messages?: string | undefined;
    ai_messages?: string | undefined;
    [field: string]: unknown;
  },
  limits: MessageLimits,
): MemosAddRequest {
  const { messages, user_messages, ai_messages, ...rest } = input;
  if (Array.isArray(rest.user_id)) rest.user_id = distinct(rest.user_id);
  return {
    ...dropUndefined(rest),
    messages: normalizeMessages(collectMessages(messages, user_messages, ai_messages), limits),
  };
}

/** The MemOS-compatible search: MemOS's own body, absent fields left out. */
export function buildCompatSearchRequest(input: { query: string; [field: string]: unknown }): MemosSearchRequest {
  return { ...dropUndefined(input), query: input.query };
}

export const DEFAULT_PAGE_SIZE = 10;

/** `/v1/list` → MemOS `get/memory`: the agent and tags become filter conditions. */
export function buildListRequest(input: ListRequest): MemosGetMemoryRequest {
  const conditions: Record<string, unknown>[] = [];
  if (input.agent_id !== undefined) conditions.push({ agent_id: input.agent_id });
  for (const tag of input.tags ?? []) conditions.push({ tags: { contains: tag } });
  const filter = mergeFilter(undefined, conditions);
  return {
    user_id: input.user_id,
    page: input.page ?? 1,
    size: input.size ?? DEFAULT_PAGE_SIZE,
    ...(filter === undefined ? {} : { filter }),
  };
}
