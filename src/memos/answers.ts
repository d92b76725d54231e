/**
 * Shapes MemOS search data (from either backend) into what no-code callers
 * want: a flat `memories` list and a ready-to-prompt `text`.
 */
import {
  DETAIL_LISTS,
  type BackendResult,
  type DetailListName,
  type MemoryKind,
  type MemosAddData,
  type MemosAddRequest,
  type MemosSearchData,
} from "./types";

export interface Memory {
  id: string | null;
  content: string;
  type: MemoryKind;
  score: number | null;
  created_at: string | null;
  conversation_id: string | null;
}

const HEADINGS: Record<MemoryKind, string> = {
  fact: "Facts",
  preference: "Preferences",
  profile: "Profile",
  event: "Events",
  tool: "Tool memories",
  skill: "Skills",
};

export const NO_MEMORIES_TEXT = "No relevant memories found.";

export interface MemoryEntry {
  memory: Memory;
  /** MemOS's short name for the memory (`memory_key`), when it has one. */
  title: string | undefined;
}

interface Line extends MemoryEntry {
  line: string;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim().length > 0 ? value.trim() : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** An id is text or a number; anything else (an object, a list) is no id we can show. */
function idOf(value: unknown): string | null {
  if (typeof value === "string" && value.length > 0) return value;
  return num(value) === undefined ? null : String(value);
}

/** Epoch milliseconds as ISO 8601; a time `Date` cannot hold (1e20, say) is unknown, not an error. */
function isoTime(value: unknown): string | null {
  const ms = num(value);
  // Date holds ±8.64e15 ms; past that a time is unknown, not an error.
  return ms === undefined || Math.abs(ms) > 8.64e15 ? null : new Date(ms).toISOString();
}

/** MemOS item fields differ by list; take the first that holds text. */
function describe(
  kind: MemoryKind,
  item: Record<string, unknown>,
): { content: string; line: string; title: string | undefined } | undefined {
  if (kind === "preference") {
    const content = str(item.preference) ?? str(item.memory_value) ?? str(item.content);
    return content === undefined ? undefined : { content, line: `- ${content}`, title: str(item.preference_type) };
  }
  const value =
    str(item.memory_value) ?? str(item.content) ?? str(item.memory) ?? str(item.preference) ?? str(item.description);
  if (value === undefined) return undefined;
  const key = str(item.memory_key) ?? str(item.title) ?? str(item.name);
  // A title that only repeats the memory's first words (the embedded store's) adds nothing to the line.
  const repeats = key === value || (key?.endsWith("…") === true && value.startsWith(key.slice(0, -1)));
  const telling = key !== undefined && !repeats;
  return { content: value, line: telling ? `- ${key}: ${value}` : `- ${value}`, title: key };
}

function linesOf(data: MemosSearchData): Line[] {
  const lines: Line[] = [];
  for (const [list, kind] of Object.entries(DETAIL_LISTS) as [DetailListName, MemoryKind][]) {
    const items = data[list];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      const described = describe(kind, item);
      if (!described) continue;
      lines.push({
        line: described.line,
        title: described.title,
        memory: {
          id: idOf(item.id),
          content: described.content,
          type: kind,
          score: num(item.relativity) ?? num(item.score) ?? null,
          created_at: isoTime(item.create_time),
          conversation_id: str(item.conversation_id) ?? null,
        },
      });
    }
  }
  return lines;
}

/** Every memory of every detail list, in MemOS's order, with its title. */
export function memoryEntries(data: MemosSearchData): MemoryEntry[] {
  return linesOf(data);
}

export interface ShapedSearch {
  memories: Memory[];
  /** One heading per kind, one memory per line; a note when nothing matched. */
  text: string;
}

export function shapeSearch(data: MemosSearchData): ShapedSearch {
  const lines = linesOf(data);
  const sections: string[] = [];
  for (const kind of Object.values(DETAIL_LISTS)) {
    const own = lines.filter(({ memory }) => memory.type === kind).map(({ line }) => line);
    if (own.length > 0) sections.push(`${HEADINGS[kind]}:\n${own.join("\n")}`);
  }
  const note = str(data.preference_note);
  if (note) sections.push(note);
  return {
    memories: lines.map(({ memory }) => memory),
    text: sections.length > 0 ? sections.join("\n\n") : NO_MEMORIES_TEXT,
  };
}

/** One memory as `/v1/get` shows it, from MemOS's `get/memory/{id}` answer (or the store's). */
export interface MemoryDetail {
  id: string | null;
  title: string | null;
  content: string;
  status: string | null;
  user_id: string | null;
  conversation_id: string | null;
  tags: string[];
  created_at: string | null;
  updated_at: string | null;
}

export function shapeMemoryDetail(detail: Record<string, unknown>): MemoryDetail {
  const content = detail.content;
  return {
    id: idOf(detail.id),
    title: str(detail.title) ?? null,
    content: typeof content === "string" ? content : (JSON.stringify(content) ?? ""),
    status: str(detail.status) ?? null,
    user_id: str(detail.user_id) ?? null,
    conversation_id: str(detail.conversation_id) ?? null,
    tags: Array.isArray(detail.tags) ? detail.tags.filter((tag): tag is string => typeof tag === "string") : [],
    created_at: isoTime(detail.created_at) ?? str(detail.created_at) ?? null,
    updated_at: isoTime(detail.updated_at) ?? str(detail.updated_at) ?? null,
  };
}

export interface ShapedAdd {
  deduplicated: boolean;
  user_id: string | string[] | undefined;
  conversation_id: string | null;
  message_count: number;
  task_id: string | null;
  status: string | null;
  /** One sentence a model or a Dify node can show as is. */
  text: string;
}

/** The answer to an add (made now, or replayed by dedupe) on every surface that speaks memos-edge's own shape. */
export function shapeAdd(request: MemosAddRequest, result: BackendResult<MemosAddData>, replayed: boolean): ShapedAdd {
  const { data } = result;
  const userIds = Array.isArray(request.user_id) ? request.user_id : [request.user_id];
  const conversationId =
    request.conversation_id ?? (typeof data.conversation_id === "string" ? data.conversation_id : null);
  const count = request.messages.length;
  const noun = count === 1 ? "message" : "messages";
  const where = conversationId ? ` (conversation ${conversationId})` : "";
  return {
    deduplicated: replayed,
    user_id: request.user_id,
    conversation_id: conversationId,
    message_count: count,
    task_id: data.task_id ?? null,
    status: data.status ?? null,
    text: replayed
      ? `Already added: ${count} ${noun} for ${userIds.join(", ")}${where}; this repeat was not sent again.`
      : `Added ${count} ${noun} to memory for ${userIds.join(", ")}${where}.`,
  };
}

/** A queued add's answer (202): the same fields as a made add, with memos-edge's task. */
export function shapeQueuedAdd(
  request: MemosAddRequest,
  task: { task_id: string; status: string },
  replayed: boolean,
): ShapedAdd {
  const userIds = Array.isArray(request.user_id) ? request.user_id : [request.user_id];
  const count = request.messages.length;
  const noun = count === 1 ? "message" : "messages";
  const where = request.conversation_id ? ` (conversation ${request.conversation_id})` : "";
  return {
    deduplicated: replayed,
    user_id: request.user_id,
    conversation_id: request.conversation_id ?? null,
    message_count: count,
    task_id: task.task_id,
    status: task.status,
    text: replayed
      ? `Already queued: ${count} ${noun} for ${userIds.join(", ")}${where} (task ${task.task_id}, ${task.status}); this repeat was not queued again.`
      : `Queued ${count} ${noun} for ${userIds.join(", ")}${where}: delivered to memory when the backend can take them (task ${task.task_id}).`,
  };
}
