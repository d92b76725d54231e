/**
 * Memory management in the embedded store: list, read, delete, edit, task
 * status, feedback and a conversation's messages, in MemOS's vocabulary
 * (README "Memory management"). Each message is a memory here, so messages
 * and memories are the same rows.
 */
import type {
  BackendResult,
  MemosAddData,
  MemosDeleteData,
  MemosDeleteRequest,
  MemosFeedbackRequest,
  MemosGetMemoryData,
  MemosGetMemoryRequest,
  MemosGetMessagesRequest,
  MemosMemoryDetail,
  MemosMessagesData,
  MemosTaskStatus,
  MemosUpdateRequest,
} from "../memos/types";
import { addScopeConditions, CLAIM_SLOT_SQL, INSERT_SQL, parseTags, scopeOf, titleOf } from "./d1-backend";
import { UnsupportedByStoreError } from "./errors";

const LOCAL_MEMORY_TYPE = "LongTermMemory";
/** The tag that marks a feedback memory (feedback is stored, not applied: there is no model here). */
export const FEEDBACK_TAG = "feedback";
/** Rows one delete statement removes at most (a user's whole history goes in several). */
const DELETE_CHUNK_ROWS = 250;
/** D1 binds at most 100 parameters per statement. */
const MAX_IDS_PER_STATEMENT = 90;

interface StoredMemory {
  id: string;
  user_id: string;
  conversation_id: string;
  agent_id: string | null;
  app_id: string | null;
  role: string;
  content: string;
  tags: string;
  title: string | null;
  status: string;
  created_at: number;
  updated_at: number | null;
}

const COLUMNS =
  "id, user_id, conversation_id, agent_id, app_id, role, content, tags, title, status, created_at, updated_at";

export function recordTask(
  db: D1Database,
  tenant: string,
  taskId: string,
  userId: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare("INSERT INTO tasks (task_id, user_id, status, created_at, tenant) VALUES (?, ?, 'completed', ?, ?)")
    .bind(taskId, userId, now, tenant);
}

/** The item shape of MemOS's detail lists (`get/memory`, `search/memory`). */
function listItem(row: StoredMemory) {
  return {
    id: row.id,
    memory_key: row.title ?? titleOf(row.content),
    memory_value: row.content,
    memory_type: LOCAL_MEMORY_TYPE,
    create_time: row.created_at,
    update_time: row.updated_at ?? row.created_at,
    conversation_id: row.conversation_id,
    status: row.status,
    tags: parseTags(row.tags),
    ...(row.agent_id === null ? {} : { agent_id: row.agent_id }),
    ...(row.app_id === null ? {} : { app_id: row.app_id }),
  };
}

/** Who and what a list or delete covers: the user or agent, then the conditions of the filter the store can honour. */
function ownerConditions(request: {
  user_id?: unknown;
  agent_id?: unknown;
  filter?: unknown;
  conversation_id?: unknown;
}) {
  const where: string[] = [];
  const params: unknown[] = [];
  if (typeof request.user_id === "string") {
    where.push("user_id = ?");
    params.push(request.user_id);
  }
  if (typeof request.conversation_id === "string") {
    where.push("conversation_id = ?");
    params.push(request.conversation_id);
  }
  addScopeConditions(scopeOf({ agent_id: request.agent_id, filter: request.filter }), "", where, params);
  return { where, params };
}

export async function getMemories(
  db: D1Database,
  tenant: string,
  request: MemosGetMemoryRequest,
): Promise<BackendResult<MemosGetMemoryData>> {
  const { where, params } = ownerConditions(request);
  // A list names its owner; without one it would be every user's memory.
  if (where.length === 0) throw new UnsupportedByStoreError("user_id or agent_id is required", "user_id");
  where.push("status != 'deleted'", "tenant = ?");
  params.push(tenant);
  const clause = where.join(" AND ");
  const [count, rows] = await db.batch<{ total: number } | StoredMemory>([
    db.prepare(`SELECT COUNT(*) AS total FROM memories WHERE ${clause}`).bind(...params),
    db
      .prepare(`SELECT ${COLUMNS} FROM memories WHERE ${clause} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
      .bind(...params, request.size, (request.page - 1) * request.size),
  ]);
  const total = (count?.results[0] as { total: number } | undefined)?.total ?? 0;
  return {
    message: "ok",
    data: {
      memory_detail_list: ((rows?.results ?? []) as StoredMemory[]).map(listItem),
      preference_detail_list: [],
      tool_memory_detail_list: [],
      total,
      size: request.size,
      current: request.page,
      pages: Math.ceil(total / request.size),
    },
  };
}

export async function getMemory(
  db: D1Database,
  tenant: string,
  memoryId: string,
): Promise<BackendResult<MemosMemoryDetail | null>> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM memories WHERE id = ? AND tenant = ?`)
    .bind(memoryId, tenant)
    .first<StoredMemory>();
  if (row === null) return { message: "not found", data: null };
  return {
    message: "ok",
    data: {
      id: row.id,
      memory_view: "detail_factual",
      title: row.title ?? titleOf(row.content),
      content: row.content,
      conversation_id: row.conversation_id,
      message_ids: [row.id],
      status: row.status,
      created_at: row.created_at,
      updated_at: row.updated_at ?? row.created_at,
      user_id: row.user_id,
      agent_id: row.agent_id,
      tags: parseTags(row.tags),
      info: {},
    },
  };
}

export async function deleteMemories(
  db: D1Database,
  tenant: string,
  request: MemosDeleteRequest,
): Promise<BackendResult<MemosDeleteData>> {
  if (request.memory_ids !== undefined) {
    const owner = typeof request.user_id === "string" ? " AND user_id = ?" : "";
    const statements = chunks(request.memory_ids, MAX_IDS_PER_STATEMENT).map((ids) =>
      db
        .prepare(
          `DELETE FROM memories WHERE id IN (${ids.map(() => "?").join(", ")}) AND tenant = ?${owner} RETURNING id`,
        )
        .bind(...ids, tenant, ...(owner ? [request.user_id] : [])),
    );
    const results = statements.length > 0 ? await db.batch(statements) : [];
    // Rows, not `meta.changes`, which counts the FTS index's own writes too.
    return deleted(results.reduce((sum, result) => sum + result.results.length, 0));
  }
  if (request.filter !== undefined && request.user_id === undefined && request.agent_id === undefined) {
    throw new UnsupportedByStoreError(
      "The embedded store deletes by memory_ids, user_id (optionally with conversation_id) or agent_id, not by filter alone.",
      "filter",
    );
  }
  const { where, params } = ownerConditions(request);
  if (where.length === 0) throw new UnsupportedByStoreError("memory_ids, user_id or agent_id is required", "user_id");
  // In chunks: forgetting a user of 100k memories in one statement (each row also rewrites the
  // FTS index) could outlast what D1 gives one query.
  const chunk = db.prepare(
    `DELETE FROM memories WHERE rowid IN (SELECT rowid FROM memories WHERE ${where.join(" AND ")} AND tenant = ? LIMIT ?)
     RETURNING id`,
  );
  let count = 0;
  for (;;) {
    const removed = (await chunk.bind(...params, tenant, DELETE_CHUNK_ROWS).all()).results.length;
    count += removed;
    if (removed < DELETE_CHUNK_ROWS) return deleted(count);
  }
}

/**
 * Counted from the rows the delete returns: D1's `meta.changes` also counts the
 * rows the FTS trigger writes, so one deleted memory read as three.
 */
function deleted(count: number): BackendResult<MemosDeleteData> {
  return { message: "ok", data: { success: true, deleted: count } };
}

export async function updateMemory(
  db: D1Database,
  tenant: string,
  request: MemosUpdateRequest,
): Promise<BackendResult<MemosDeleteData>> {
  const result = await db
    .prepare(
      `UPDATE memories SET content = COALESCE(?, content), title = COALESCE(?, title), status = COALESCE(?, status),
         updated_at = ? WHERE id = ? AND tenant = ? RETURNING id`,
    )
    .bind(request.content ?? null, request.title ?? null, request.status ?? null, Date.now(), request.memory_id, tenant)
    .all();
  const found = result.results.length > 0;
  return { message: found ? "ok" : "not found", data: { success: found } };
}

export async function taskStatus(
  db: D1Database,
  tenant: string,
  taskId: string,
): Promise<BackendResult<MemosTaskStatus | null>> {
  const row = await db
    .prepare("SELECT task_id, status FROM tasks WHERE task_id = ? AND tenant = ?")
    .bind(taskId, tenant)
    .first<{ task_id: string; status: string }>();
  return row === null ? { message: "not found", data: null } : { message: "ok", data: row };
}

/**
 * Without a model nothing can be re-extracted, so feedback is stored as a
 * memory of its own (tagged `feedback`, in the conversation it is about):
 * search then recalls the correction next to what it corrects.
 */
export async function addFeedback(
  db: D1Database,
  tenant: string,
  request: MemosFeedbackRequest,
): Promise<BackendResult<MemosAddData>> {
  const taskId = crypto.randomUUID();
  const now = Date.now();
  const conversationId = request.conversation_id ?? `conv-${crypto.randomUUID()}`;
  await db.batch([
    db.prepare(CLAIM_SLOT_SQL).bind(request.user_id),
    db
      .prepare(INSERT_SQL)
      .bind(
        crypto.randomUUID(),
        request.user_id,
        conversationId,
        request.agent_id ?? null,
        request.app_id ?? null,
        "user",
        request.feedback_content,
        JSON.stringify([FEEDBACK_TAG]),
        request.feedback_time ?? null,
        now,
        titleOf(request.feedback_content),
        taskId,
        tenant,
      ),
    recordTask(db, tenant, taskId, request.user_id, now),
  ]);
  return { message: "ok", data: { success: true, task_id: taskId, status: "completed" } };
}

export async function getMessages(
  db: D1Database,
  tenant: string,
  request: MemosGetMessagesRequest,
): Promise<BackendResult<MemosMessagesData>> {
  const rows = await db
    .prepare(
      `SELECT role, content, created_at, updated_at FROM memories
       WHERE user_id = ? AND conversation_id = ? AND tenant = ? AND NOT EXISTS (SELECT 1 FROM json_each(tags) WHERE json_each.value = ?)
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    )
    .bind(request.user_id, request.conversation_id, tenant, FEEDBACK_TAG, request.message_limit_number)
    .all<{ role: string; content: string; created_at: number; updated_at: number | null }>();
  // The newest N, told in the order they were said.
  const messages = rows.results.reverse().map((row) => ({
    role: row.role,
    content: row.content,
    create_time: new Date(row.created_at).toISOString(),
    update_time: new Date(row.updated_at ?? row.created_at).toISOString(),
  }));
  return { message: "ok", data: { message_detail_list: messages } };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
