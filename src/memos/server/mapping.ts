/**
 * The self-hosted MemOS server's `/product/*` vocabulary ↔ MemOS cloud's,
 * which every backend speaks (docs/memos-server.md has the full table). Pure:
 * no I/O. Requests are built from an allow-list, so no caller field ever
 * reaches a server field it was not mapped to (a caller's own
 * `writable_cube_ids` or `is_feedback` is dropped, not forwarded).
 */
import { UnsupportedCallError } from "../errors";
import type {
  MemosAddRequest,
  MemosFeedbackRequest,
  MemosGetMemoryData,
  MemosMemoryDetail,
  MemosSearchData,
  MemosSearchRequest,
  MemosTaskStatus,
} from "../types";

/** MemOS cloud's own defaults, sent explicitly because the server's drift between versions. */
export const DEFAULT_SEARCH_LIMIT = 9;
/** Cloud default; the server's has been 0.57, 0.05 and 0.45. */
export const DEFAULT_RELATIVITY = 0.45;
/** The server's default for `pref_top_k`. */
const DEFAULT_PREF_TOP_K = 6;

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/**
 * MemOS cloud's `async_mode` (a boolean, default true) as the server's strict
 * literal: absent → "async" (both APIs' default), false → "sync". Never a
 * boolean: the server answers 422 to one. Its own strings are taken as they are.
 */
export function asyncModeOf(value: unknown): "async" | "sync" {
  if (value === false || value === 0) return "sync";
  if (typeof value === "string" && ["false", "sync", "0", "no"].includes(value.trim().toLowerCase())) return "sync";
  return "async";
}

/** The one user an add or search is for: the server takes one `user_id` (and its cube) per call. */
export function singleUser(value: unknown, agentId: unknown): string {
  const ids = Array.isArray(value) ? [...new Set(value)] : value === undefined || value === null ? [] : [value];
  if (ids.length > 1) {
    throw new UnsupportedCallError(
      "The self-hosted MemOS server stores one user per add: send one add per user of the group chat.",
      "user_id",
    );
  }
  const [id] = ids;
  if (typeof id !== "string" || id === "") {
    throw new UnsupportedCallError(
      agentId === undefined
        ? "user_id is required"
        : "The self-hosted MemOS server keeps memories per user: name the user_id (agent_id alone is not enough).",
      "user_id",
    );
  }
  return id;
}

/** `agent_id` and `app_id` ride in the server's `info`, whose custom keys it keeps and filters on. */
function infoOf(request: { info?: unknown; agent_id?: unknown; app_id?: unknown }): Json | undefined {
  const info: Json = isRecord(request.info) ? { ...request.info } : {};
  if (typeof request.agent_id === "string") info.agent_id = request.agent_id;
  if (typeof request.app_id === "string") info.app_id = request.app_id;
  return Object.keys(info).length > 0 ? info : undefined;
}

/**
 * `APIADDRequest`. The cube is the user (the server's own default, sent
 * explicitly so every version writes to the same place); our task id goes
 * along so the scheduler can report on it.
 */
export function toServerAdd(request: MemosAddRequest, taskId: string): Json {
  const userId = singleUser(request.user_id, request.agent_id);
  const body: Json = {
    user_id: userId,
    writable_cube_ids: [userId],
    messages: request.messages,
    async_mode: asyncModeOf(request.async_mode),
    task_id: taskId,
  };
  if (typeof request.conversation_id === "string") body.session_id = request.conversation_id;
  if (Array.isArray(request.tags) && request.tags.length > 0) body.custom_tags = request.tags;
  const info = infoOf(request);
  if (info !== undefined) body.info = info;
  return body;
}

/** Truthy in MemOS cloud's loose sense (the official client sends booleans, forms send strings). */
function flag(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === "true";
  return undefined;
}

function numberOr(value: unknown, fallback: number): number {
  const parsed = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof parsed === "number" && Number.isFinite(parsed) ? parsed : fallback;
}

/** `APISearchRequest`: the user's own cube, MemOS cloud's defaults for what drifts. */
export function toServerSearch(request: MemosSearchRequest, maxLimit: number): Json {
  const userId = singleUser(request.user_id, request.agent_id);
  const views = Array.isArray(request.include_memory_view) ? request.include_memory_view : [];
  const limit = Math.trunc(numberOr(request.memory_limit_number, DEFAULT_SEARCH_LIMIT));
  const body: Json = {
    query: request.query,
    user_id: userId,
    readable_cube_ids: [userId],
    mode: "fast",
    top_k: Math.min(Math.max(limit, 1), maxLimit),
    relativity: Math.max(0, numberOr(request.relativity, DEFAULT_RELATIVITY)),
    include_preference: flag(request.include_preference) ?? true,
    pref_top_k: Math.max(0, Math.trunc(numberOr(request.preference_limit_number, DEFAULT_PREF_TOP_K))),
    search_tool_memory: flag(request.include_tool_memory) ?? views.includes("tool_memory"),
    include_skill_memory: flag(request.include_skill) ?? views.includes("skill"),
  };
  if (typeof request.conversation_id === "string") body.session_id = request.conversation_id;
  if (isRecord(request.filter)) body.filter = request.filter;
  return body;
}

/**
 * `APIFeedbackRequest`. `history` is a required key: memos-edge keeps no
 * conversation text and the server serves none back, so it is `[]` and the
 * server judges the feedback by its content and the user's memories.
 */
export function toServerFeedback(request: MemosFeedbackRequest, taskId: string): Json {
  const body: Json = {
    user_id: request.user_id,
    writable_cube_ids: [request.user_id],
    history: [],
    feedback_content: request.feedback_content,
    async_mode: "async",
    task_id: taskId,
  };
  if (typeof request.conversation_id === "string") body.session_id = request.conversation_id;
  if (typeof request.feedback_time === "string") body.feedback_time = request.feedback_time;
  const info = infoOf(request);
  if (info !== undefined) body.info = info;
  return body;
}

// ---------------------------------------------------------------------------
// Task ids: the server's status route needs the user, so our task id carries it
// ---------------------------------------------------------------------------

/** Task ids are checked as record ids (src/http/fields.ts): at most 128 of [\w.:@-]. */
const MAX_TASK_ID = 128;
const PLAIN_USER = /^[\w:@.-]+$/;

/**
 * `<random>.u.<user>` (a plain user id) or `<random>.b.<base64url of the user>`;
 * a user too long for either gets `<random>.x`, whose status cannot be asked.
 */
export function newTaskId(userId: string): string {
  const random = base64url(crypto.getRandomValues(new Uint8Array(9)));
  const plain = `${random}.u.${userId}`;
  if (PLAIN_USER.test(userId) && plain.length <= MAX_TASK_ID) return plain;
  const encoded = `${random}.b.${base64url(new TextEncoder().encode(userId))}`;
  return encoded.length <= MAX_TASK_ID ? encoded : `${random}.x`;
}

/** The user a task id of ours names; `null` for `<random>.x`; `undefined` when it is not ours. */
export function userOfTaskId(taskId: string): string | null | undefined {
  const match = /^[A-Za-z0-9_-]{12}\.(?:u\.(.+)|b\.([A-Za-z0-9_-]+)|(x))$/.exec(taskId);
  if (match === null) return undefined;
  if (match[3] !== undefined) return null;
  if (match[1] !== undefined) return match[1];
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(match[2] ?? ""));
  } catch {
    return undefined;
  }
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** The scheduler's statuses in MemOS cloud's words (running, completed, failed); the server's own kept beside. */
const TASK_STATUS: Record<string, string> = {
  waiting: "running",
  in_progress: "running",
  completed: "completed",
  failed: "failed",
  cancelled: "failed",
};

/** `StatusResponse.data`: `[{task_id, status}]`, aggregated by our (business) task id. */
export function fromServerStatus(data: unknown, taskId: string): MemosTaskStatus | null {
  const items = Array.isArray(data) ? data.filter(isRecord) : [];
  const item = items.find((entry) => entry.task_id === taskId) ?? (items.length === 1 ? items[0] : undefined);
  if (item === undefined || typeof item.status !== "string") return null;
  return { task_id: taskId, status: TASK_STATUS[item.status] ?? item.status, server_status: item.status };
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/**
 * The server's times are Python `isoformat()` without a zone (UTC in the
 * server's containers) and microseconds; MemOS cloud's are epoch milliseconds.
 */
export function epochMs(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value !== "string") return undefined;
  const match = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (match === null) return undefined;
  const fraction = match[2] === undefined ? "" : `.${match[2].slice(0, 3).padEnd(3, "0")}`;
  const time = Date.parse(`${match[1]?.replace(" ", "T")}${fraction}${match[3] ?? "Z"}`);
  return Number.isNaN(time) ? undefined : time;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function tagsOf(metadata: Json): string[] {
  const tags = [metadata.tags, metadata.custom_tags].flatMap((list) => (Array.isArray(list) ? list : []));
  return [...new Set(tags.filter((tag): tag is string => typeof tag === "string"))];
}

/** A textual memory (`{id, memory, metadata}`) as a MemOS cloud `memory_detail_list` item. */
export function toDetailItem(node: Json): Json {
  const metadata = isRecord(node.metadata) ? node.metadata : {};
  const info = isRecord(metadata.info) ? metadata.info : {};
  const created = epochMs(metadata.created_at);
  const updated = epochMs(metadata.updated_at) ?? created;
  const item: Json = {
    id: text(node.id) ?? text(metadata.id) ?? null,
    memory_key: text(metadata.key) ?? null,
    memory_value: text(node.memory) ?? text(metadata.memory) ?? "",
    memory_type: text(metadata.memory_type) ?? null,
    create_time: created ?? null,
    update_time: updated ?? null,
    conversation_id: text(metadata.session_id) ?? null,
    status: text(metadata.status) ?? null,
    confidence: num(metadata.confidence) ?? null,
    tags: tagsOf(metadata),
    relativity: num(metadata.relativity) ?? null,
  };
  if (typeof info.agent_id === "string") item.agent_id = info.agent_id;
  if (typeof info.app_id === "string") item.app_id = info.app_id;
  if (Object.keys(info).length > 0) item.info = info;
  return item;
}

/** A preference memory as a `preference_detail_list` item. */
function toPreferenceItem(node: Json): Json {
  const metadata = isRecord(node.metadata) ? node.metadata : {};
  return {
    id: text(node.id) ?? null,
    preference_type: text(metadata.preference_type) ?? null,
    preference: text(metadata.preference) ?? text(node.memory) ?? "",
    reasoning: text(metadata.reasoning) ?? null,
    conversation_id: text(metadata.session_id) ?? null,
    create_time: epochMs(metadata.created_at) ?? null,
    relativity: num(metadata.relativity) ?? num(metadata.score) ?? null,
  };
}

interface Bucket {
  nodes: Json[];
  total: number;
}

/**
 * The nodes of every bucket (`[{cube_id, memories, total_nodes}]`, one per
 * cube). Older servers' `get_memory` gave `memories` as a graph export
 * (`{nodes, edges}`); both are read.
 */
function bucketsOf(value: unknown): Bucket {
  const buckets = Array.isArray(value) ? value.filter(isRecord) : [];
  const nodes: Json[] = [];
  let total = 0;
  for (const bucket of buckets) {
    const memories = Array.isArray(bucket.memories)
      ? bucket.memories
      : isRecord(bucket.memories) && Array.isArray(bucket.memories.nodes)
        ? bucket.memories.nodes
        : [];
    const own = memories.filter(isRecord);
    nodes.push(...own);
    total += num(bucket.total_nodes) ?? own.length;
  }
  return { nodes, total };
}

/** `MOSSearchResult` → MemOS cloud search data. */
export function fromServerSearch(data: unknown, conversationId?: string): MemosSearchData {
  const result = isRecord(data) ? data : {};
  // The server only prefers the session; MemOS cloud (and memos-edge's /v1) keep to it.
  const inConversation = (item: Json) => conversationId === undefined || item.conversation_id === conversationId;
  const facts = bucketsOf(result.text_mem).nodes.map(toDetailItem).filter(inConversation);
  const preferences = bucketsOf(result.pref_mem).nodes.map(toPreferenceItem).filter(inConversation);
  const out: MemosSearchData = { memory_detail_list: facts, preference_detail_list: preferences };
  const tools = bucketsOf(result.tool_mem).nodes.map(toDetailItem).filter(inConversation);
  const skills = bucketsOf(result.skill_mem).nodes.map(toDetailItem).filter(inConversation);
  if (tools.length > 0) out.tool_memory_detail_list = tools;
  if (skills.length > 0) out.skill_detail_list = skills;
  // `pref_string` is the preferences written out again: only a note when no preference item came with it.
  const note = text(result.pref_note) ?? (preferences.length === 0 ? text(result.pref_string) : undefined);
  if (note !== undefined) out.preference_note = note;
  return out;
}

/** `get_memory` → MemOS cloud `get/memory` data: each kind paged by the server with the same page size. */
export function fromServerMemories(data: unknown, page: number, size: number): MemosGetMemoryData {
  const result = isRecord(data) ? data : {};
  const facts = bucketsOf(result.text_mem);
  const preferences = bucketsOf(result.pref_mem);
  const total = facts.total + preferences.total;
  return {
    memory_detail_list: facts.nodes.map(toDetailItem),
    preference_detail_list: preferences.nodes.map(toPreferenceItem),
    total,
    size,
    current: page,
    pages: Math.ceil(Math.max(facts.total, preferences.total) / size),
  };
}

/** The ids of every memory a `get_memory` page holds (facts and preferences). */
export function memoryIdsOf(data: unknown): { id: string; sessionId: string | undefined }[] {
  const result = isRecord(data) ? data : {};
  return [...bucketsOf(result.text_mem).nodes, ...bucketsOf(result.pref_mem).nodes].flatMap((node) => {
    const metadata = isRecord(node.metadata) ? node.metadata : {};
    return typeof node.id === "string" ? [{ id: node.id, sessionId: text(metadata.session_id) }] : [];
  });
}

/** `GET get_memory/{id}` (`{id, memory, metadata}` or null) → MemOS cloud's `get/memory/{id}` names. */
export function fromServerMemory(data: unknown): MemosMemoryDetail | null {
  if (!isRecord(data)) return null;
  const metadata = isRecord(data.metadata) ? data.metadata : {};
  const info = isRecord(metadata.info) ? metadata.info : {};
  return {
    id: text(data.id),
    title: text(metadata.key) ?? null,
    content: text(data.memory) ?? "",
    conversation_id: text(metadata.session_id) ?? null,
    user_id: text(metadata.user_id) ?? null,
    agent_id: typeof info.agent_id === "string" ? info.agent_id : null,
    status: text(metadata.status) ?? null,
    created_at: epochMs(metadata.created_at) ?? null,
    updated_at: epochMs(metadata.updated_at) ?? epochMs(metadata.created_at) ?? null,
    tags: tagsOf(metadata),
    memory_type: text(metadata.memory_type) ?? null,
    info,
    // The server's cube (graph partition) the memory lives in: what a delete must name.
    cube_id: text(metadata.user_name) ?? text(metadata.user_id) ?? null,
  };
}

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
