/**
 * The embedded memory store: MemOS's add/search contract served from D1
 * (SQLite + FTS5), for running offline or self-hosted without a MemOS account.
 * It stores each message as a memory; it does not extract facts or preferences.
 */
import type { MemoryBackend } from "../memos/backend";
import type {
  BackendResult,
  MemosAddData,
  MemosAddRequest,
  MemosDeleteData,
  MemosDeleteRequest,
  MemosFeedbackRequest,
  MemosGetMemoryData,
  MemosGetMemoryRequest,
  MemosGetMessagesRequest,
  MemosMemoryDetail,
  MemosMessage,
  MemosMessagesData,
  MemosSearchData,
  MemosSearchRequest,
  MemosTaskStatus,
  MemosUpdateRequest,
} from "../memos/types";
import { StoreError, UnsupportedByStoreError } from "./errors";
import { foldText, planQuery, relevance, round, type QueryPlan } from "./fts-query";
import * as manage from "./manage";
import { recordTask } from "./manage";
import { ensureSchema } from "./schema";

/** Same default as MemOS when `memory_limit_number` is absent. */
const DEFAULT_LIMIT = 9;
export const LOCAL_MAX_SEARCH_LIMIT = 50;
const LOCAL_MEMORY_TYPE = "LongTermMemory";
/** Candidates come newest first (a scan's: most terms first); the final order is by relevance, so look past the limit. */
const CANDIDATE_FACTOR = 4;

interface Found {
  row: MemoryRow;
  /** Share of the query's terms (short ones included) the memory contains. */
  coverage: number;
}

/**
 * `every`: memories holding every term; otherwise any term. `from`: the lowest
 * rowid searched (the user's recent window), or null for all their history.
 * `terms`: what a `like` stage looks for in the content.
 */
type Stage = { kind: "fts" | "like"; every: boolean; from: number | null; terms: string[] };

/**
 * Up to this many rows, a user's memories are read directly (LIKE over their
 * rowid range, about 0.7 ms per 1,000 rows for six terms) rather than through
 * the FTS index. The index is shared by every user, and FTS5 reads a term's
 * whole doclist even when the query bounds the rowid (measured with SQLite
 * 3.51: bench/README.md "Embedded store"), so its cost follows the table; a
 * scan of the range follows the user's own rows.
 */
export const SCAN_MAX_ROWS = 5_000;

/** The search stages for a query, cheapest and best first. */
function searchStages(plan: QueryPlan, range: UserRange, limits: StoreLimits): Stage[] {
  const allTerms = [...plan.terms, ...plan.shortTerms];
  // A small history: one pass over it, best coverage first, finds the best matches.
  if (range.last - range.first < limits.scanMaxRows)
    return [{ kind: "like", every: false, from: null, terms: allTerms }];
  if (plan.match !== null) {
    // The index gives each term's matches newest first, so its stages need no recent window.
    const modes = plan.terms.length > 1 ? [true, false] : [false];
    return modes.map((every): Stage => ({ kind: "fts", every, from: null, terms: plan.terms }));
  }
  if (plan.shortTerms.length === 0) return [];
  const recent = recentFrom(range, limits.recentWindow);
  const windows = recent === null ? [null] : [recent, null];
  const modes = plan.shortTerms.length > 1 ? [true, false] : [false];
  return modes.flatMap((every) =>
    windows.map((from): Stage => ({ kind: "like", every, from, terms: plan.shortTerms })),
  );
}

/**
 * Each user's memories live in a rowid range of their own (migrations/0003):
 * slot × 2^28 up to the next slot. A user's rows are contiguous in the table,
 * so reading them is one primary-key range, and their newest rows are found by
 * arithmetic. Slots stay below 2^25, so a rowid (< 2^53) is exact as a
 * JavaScript number; 2^28 rowids per user outlast the 10 GB a D1 database holds.
 */
const RANGE_SIZE = 2 ** 28;
const MAX_SLOTS = 2 ** 25;

/** A user's first add gives them the next free slot; later adds leave it alone. */
export const CLAIM_SLOT_SQL = `INSERT OR IGNORE INTO user_slots (user_id, slot)
  SELECT ?1, next FROM (SELECT coalesce((SELECT max(slot) FROM user_slots), 0) + 1 AS next) WHERE next < ${MAX_SLOTS}`;

/** The newest rowid in the range of the slot `s` (a primary-key seek), or null. */
const LAST_ROWID = `(SELECT rowid FROM memories
  WHERE rowid BETWEEN s.slot * ${RANGE_SIZE} AND s.slot * ${RANGE_SIZE} + ${RANGE_SIZE - 1} ORDER BY rowid DESC LIMIT 1)`;

/**
 * A memory takes the next rowid of its user's range. With no slot (none left)
 * or a full range, `id` comes out NULL and NOT NULL fails the whole batch, so
 * a row can never land outside its user's range or half an add be stored.
 */
export const INSERT_SQL = `INSERT INTO memories
    (rowid, id, user_id, conversation_id, agent_id, app_id, role, content, tags, chat_time, created_at, title, task_id,
     tenant)
  SELECT r.next, CASE WHEN r.next < r.past THEN ?1 END, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13
  FROM (
    SELECT coalesce(${LAST_ROWID} + 1, s.slot * ${RANGE_SIZE}) AS next, (s.slot + 1) * ${RANGE_SIZE} AS past
    FROM (SELECT ?2 AS user_id) AS u LEFT JOIN user_slots s ON s.user_id = u.user_id
  ) AS r`;

const RANGE_SQL = `SELECT s.slot * ${RANGE_SIZE} AS first, ${LAST_ROWID} AS last FROM user_slots s WHERE s.user_id = ?`;

interface StoreLimits {
  /** How many of a user's newest memories are searched before the rest of their history. */
  recentWindow: number;
  /** Up to this many rows a user's history is scanned instead of searched in the FTS index. */
  scanMaxRows: number;
}

/** From a user's first rowid to their newest. */
interface UserRange {
  first: number;
  last: number;
}

/**
 * The rowid where the user's newest `window` memories begin, or null when the
 * range holds fewer. Rowids of a range are dense in insertion order, so this is
 * arithmetic, not a scan; rows deleted from it make the window hold fewer.
 */
function recentFrom(range: UserRange, window: number): number | null {
  const from = range.last - window + 1;
  return from > range.first ? from : null;
}

interface MemoryRow {
  id: string;
  conversation_id: string;
  agent_id: string | null;
  app_id: string | null;
  role: string;
  content: string;
  tags: string;
  created_at: number;
  title: string | null;
  /** bm25 (lower is better) where the query computed it; null where it did not. */
  rank: number | null;
}

/** Conditions the store can honour from MemOS's search fields and `filter`. */
export interface SearchScope {
  agentIds: string[];
  appIds: string[];
  tags: string[];
}

export class D1Backend implements MemoryBackend {
  readonly kind = "local";
  readonly maxSearchLimit = LOCAL_MAX_SEARCH_LIMIT;
  readonly #db: D1Database;
  readonly #limits: StoreLimits;

  /** The tenant whose rows this store reads and writes ('' for the shared space). */
  readonly #tenant: string;

  constructor(db: D1Database, options: { recentWindow: number; scanMaxRows?: number; tenant?: string }) {
    this.#db = db;
    this.#tenant = options.tenant ?? "";
    this.#limits = { recentWindow: options.recentWindow, scanMaxRows: options.scanMaxRows ?? SCAN_MAX_ROWS };
  }

  add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    return guarded(this.#db, "add", () => this.#add(request));
  }

  search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>> {
    return guarded(this.#db, "search", () => this.#search(request));
  }

  getMemories(request: MemosGetMemoryRequest): Promise<BackendResult<MemosGetMemoryData>> {
    return guarded(this.#db, "list memories", () => manage.getMemories(this.#db, this.#tenant, request));
  }

  getMemory(memoryId: string): Promise<BackendResult<MemosMemoryDetail | null>> {
    return guarded(this.#db, "read the memory", () => manage.getMemory(this.#db, this.#tenant, memoryId));
  }

  deleteMemories(request: MemosDeleteRequest): Promise<BackendResult<MemosDeleteData>> {
    return guarded(this.#db, "delete", () => manage.deleteMemories(this.#db, this.#tenant, request));
  }

  updateMemory(request: MemosUpdateRequest): Promise<BackendResult<MemosDeleteData>> {
    return guarded(this.#db, "update the memory", () => manage.updateMemory(this.#db, this.#tenant, request));
  }

  taskStatus(taskId: string): Promise<BackendResult<MemosTaskStatus | null>> {
    return guarded(this.#db, "read the task", () => manage.taskStatus(this.#db, this.#tenant, taskId));
  }

  addFeedback(request: MemosFeedbackRequest): Promise<BackendResult<MemosAddData>> {
    return guarded(this.#db, "add feedback", () => manage.addFeedback(this.#db, this.#tenant, request));
  }

  getMessages(request: MemosGetMessagesRequest): Promise<BackendResult<MemosMessagesData>> {
    return guarded(this.#db, "read messages", () => manage.getMessages(this.#db, this.#tenant, request));
  }

  async #add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    // A group chat naming someone twice stores their copy once.
    const userIds = [...new Set(Array.isArray(request.user_id) ? request.user_id : [request.user_id ?? ""])];
    // MemOS makes up a conversation id when none is given; so do we, one per add,
    // so the messages of one add stay grouped.
    const conversationId = request.conversation_id ?? `conv-${crypto.randomUUID()}`;
    const tags = JSON.stringify(request.tags ?? []);
    const now = Date.now();
    const taskId = crypto.randomUUID();
    const claimSlot = this.#db.prepare(CLAIM_SLOT_SQL);
    const insert = this.#db.prepare(INSERT_SQL);
    const statements = userIds.flatMap((userId) => [
      claimSlot.bind(userId),
      ...request.messages.map((message, index) => {
        const content = contentText(message);
        return insert.bind(
          crypto.randomUUID(),
          userId,
          conversationId,
          request.agent_id ?? null,
          request.app_id ?? null,
          message.role,
          content,
          tags,
          message.chat_time ?? null,
          // Keeps the order of one add's messages when they share a millisecond.
          now + index,
          titleOf(content),
          taskId,
          this.#tenant,
        );
      }),
    ]);
    // Adds complete at once here; the task row lets get/status say so (and not for unknown ids).
    statements.push(recordTask(this.#db, this.#tenant, taskId, userIds[0] ?? "", now));
    await this.#db.batch(statements);
    return {
      message: "ok",
      data: { success: true, task_id: taskId, status: "completed", conversation_id: conversationId },
    };
  }

  async #search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>> {
    const wanted = request.memory_limit_number;
    const limit =
      typeof wanted === "number" && Number.isFinite(wanted)
        ? Math.min(Math.max(Math.trunc(wanted), 1), LOCAL_MAX_SEARCH_LIMIT)
        : DEFAULT_LIMIT;
    const threshold = typeof request.relativity === "number" ? request.relativity : 0;
    const plan = planQuery(request.query);
    const scope = scopeOf(request);

    // The rowid range does the narrowing; `+` keeps SQLite from reading the user's rows
    // through the user_id index instead of as one range of the table. Archived (or
    // otherwise retired) memories are kept but not recalled.
    const where: string[] = ["+m.user_id = ?", "+m.tenant = ?", "m.status = 'activated'"];
    const params: unknown[] = [request.user_id ?? "", this.#tenant];
    if (request.conversation_id) {
      where.push("m.conversation_id = ?");
      params.push(request.conversation_id);
    }
    addScopeConditions(scope, "m.", where, params);

    const columns = "m.id, m.conversation_id, m.agent_id, m.app_id, m.role, m.content, m.tags, m.created_at, m.title";
    const candidates = limit * CANDIDATE_FACTOR;
    const allTerms = [...plan.terms, ...plan.shortTerms];
    const coverageOf = (content: string) => {
      const folded = foldText(content);
      return allTerms.filter((term) => folded.includes(term)).length / allTerms.length;
    };
    const range = allTerms.length > 0 ? await this.#rangeOf(request.user_id ?? "") : null;
    // No terms to look for, or a user without memories: nothing to search.
    const stages = range === null ? [] : searchStages(plan, range, this.#limits);
    const found = new Map<string, Found>();
    // bm25 only tells apart memories holding some of the terms; one holding every term scores
    // its coverage, as a scanned one does.
    const score = (hit: Found, bestRank: number) =>
      stages[0]?.kind === "fts" && hit.row.rank !== null
        ? relevance(hit.coverage, hit.row.rank, bestRank)
        : round(hit.coverage);
    const ranked = () => {
      const bestRank = Math.min(0, ...[...found.values()].map(({ row }) => row.rank ?? 0));
      // Stable sort: among equal scores the SQL order (newest first) stands.
      return [...found.values()]
        .map((hit) => ({ ...hit, relativity: score(hit, bestRank) }))
        .filter(({ relativity }) => relativity >= threshold)
        .sort((a, b) => b.relativity - a.relativity);
    };

    // Cheapest and best first: memories holding every term, then any term; each in the
    // user's newest rows, then in all their history. A stage's cost follows the rows it
    // matches, so stopping early is what keeps a large store fast. It stops only when no
    // later stage could find better: the limit-th hit must hold every term while an
    // every-term stage remains, or all terms but one for the last any-term stage.
    for (const [index, stage] of stages.entries()) {
      const rest = stages.slice(index);
      const best =
        rest.some(({ every }) => every) || allTerms.length === 1 ? 1 : (allTerms.length - 1) / allTerms.length;
      const kept = ranked();
      if (kept.length >= limit && (kept[limit - 1]?.coverage ?? 0) >= best) break;

      // The user's rowid range, or its recent end.
      const bounds = [stage.from ?? range?.first, range?.last];
      let rows: MemoryRow[];
      if (stage.kind === "fts") {
        // Newest first: FTS5 then walks its doclists backwards and stops at the limit, where
        // ordering by bm25 would score every match of a common word (40 ms vs 4 ms for a
        // four-word query over 100k memories; bench/README.md "Embedded store"). All terms
        // together, or each term on its own, so a rare term's older matches are not crowded
        // out by a common term's newer ones; bm25 (whose IDF reads each term's whole doclist,
        // half the cost of a typical query) only for the latter, where it ranks the rare term up.
        // CROSS JOIN keeps the FTS index as the outer loop: with the user's index first,
        // SQLite would run the MATCH once per row of the user (seconds at 100k rows).
        const sql = `SELECT ${columns}, ${stage.every ? "NULL" : "bm25(memories_fts)"} AS rank
          FROM memories_fts CROSS JOIN memories m ON m.rowid = memories_fts.rowid
          WHERE memories_fts MATCH ? AND memories_fts.rowid BETWEEN ? AND ? AND ${where.join(" AND ")}
          ORDER BY memories_fts.rowid DESC LIMIT ?`;
        const quoted = stage.terms.map((term) => `"${term.replaceAll('"', '""')}"`);
        const matches = stage.every ? [quoted.join(" AND ")] : quoted;
        // Rows holding every term all score 1 and come newest first, so the first `limit` are
        // the answer; short terms, which the index does not check, could tell them apart.
        const take = stage.every && plan.shortTerms.length === 0 ? limit : candidates;
        const statement = this.#db.prepare(sql);
        const answers = await this.#db.batch<MemoryRow>(
          matches.map((match) => statement.bind(match, ...bounds, ...params, take)),
        );
        rows = answers.flatMap((answer) => answer.results);
      } else {
        // Below trigram length the index cannot help, nor in a small history: read the rows,
        // counting the terms matched. instr, not LIKE: D1 refuses LIKE patterns over 50 bytes.
        // lower() folds ASCII only, as LIKE does. Numbered, so each term is bound once
        // (D1 binds at most 100).
        const hits = stage.terms.map((_, i) => `(instr(lower(m.content), ?${i + 1}) > 0)`);
        const sql = `SELECT ${columns}, -(${hits.join(" + ")}) AS rank
          FROM memories m
          WHERE m.rowid BETWEEN ? AND ? AND ${where.join(" AND ")} AND (${hits.join(stage.every ? " AND " : " OR ")})
          ORDER BY rank ASC, m.created_at DESC, m.rowid DESC LIMIT ?`;
        rows = (
          await this.#db
            .prepare(sql)
            .bind(...stage.terms, ...bounds, ...params, candidates)
            .all<MemoryRow>()
        ).results;
      }
      for (const row of rows) {
        if (!found.has(row.id)) found.set(row.id, { row, coverage: coverageOf(row.content) });
      }
    }

    const memories = ranked()
      .slice(0, limit)
      .map(({ row, relativity }) => ({
        id: row.id,
        memory_key: row.title ?? titleOf(row.content),
        memory_value: row.content,
        memory_type: LOCAL_MEMORY_TYPE,
        create_time: row.created_at,
        update_time: row.created_at,
        conversation_id: row.conversation_id,
        status: "activated",
        tags: parseTags(row.tags),
        ...(row.agent_id === null ? {} : { agent_id: row.agent_id }),
        ...(row.app_id === null ? {} : { app_id: row.app_id }),
        relativity,
      }));
    return { message: "ok", data: { memory_detail_list: memories, preference_detail_list: [] } };
  }

  /** The user's rowid range up to their newest memory, or null if they have none. */
  async #rangeOf(userId: string): Promise<UserRange | null> {
    const row = await this.#db.prepare(RANGE_SQL).bind(userId).first<{ first: number; last: number | null }>();
    return row && row.last !== null ? { first: row.first, last: row.last } : null;
  }
}

/**
 * Every store call first makes sure the schema is there (once per isolate, see
 * schema.ts). D1 errors become one typed error; their text (SQL, values) stays
 * in the cause, off the wire.
 */
async function guarded<T>(db: D1Database, operation: string, work: () => Promise<T>): Promise<T> {
  try {
    await ensureSchema(db);
    return await work();
  } catch (error) {
    if (error instanceof UnsupportedByStoreError) throw error;
    throw new StoreError(`The embedded memory store could not ${operation}.`, { cause: error });
  }
}

function contentText(message: MemosMessage): string {
  if (typeof message.content === "string") return message.content;
  const texts = message.content.flatMap((part) =>
    typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? [part.text] : [],
  );
  return texts.length > 0 ? texts.join("\n") : JSON.stringify(message.content);
}

/** MemOS titles a memory with a short phrase; the store has no model, so the content's first words serve. */
const TITLE_WORDS = 8;
const TITLE_CHARS = 60;

export function titleOf(content: string): string {
  const words = content.trim().split(/\s+/);
  let title = words.slice(0, TITLE_WORDS).join(" ");
  if (title.length > TITLE_CHARS) title = [...title].slice(0, TITLE_CHARS).join("");
  return title.length < content.trim().length ? `${title}…` : title;
}

export function parseTags(value: string): string[] {
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((tag): tag is string => typeof tag === "string") : [];
  } catch {
    return [];
  }
}

/** A filter names few agents, apps or tags; more would only exhaust D1's 100 bound parameters. */
const MAX_SCOPE_VALUES = 10;

/**
 * Reads `agent_id`/`app_id` (top level, as older clients send them) and the
 * equality and `contains` conditions of MemOS's `filter` (its `and` lists)
 * that the store can honour. Conditions on fields it does not store, and `or`
 * lists, are ignored rather than refused, so a caller switching backends keeps
 * working; the README says results may then be broader than MemOS's.
 */
/**
 * The scope's conditions as SQL, AND-ed as in MemOS's `and` list (two different
 * agent ids match nothing); `table` is the column prefix (`"m."` or `""`).
 */
export function addScopeConditions(scope: SearchScope, table: string, where: string[], params: unknown[]): void {
  for (const agentId of scope.agentIds) {
    where.push(`${table}agent_id = ?`);
    params.push(agentId);
  }
  for (const appId of scope.appIds) {
    where.push(`${table}app_id = ?`);
    params.push(appId);
  }
  for (const tag of scope.tags) {
    where.push(`EXISTS (SELECT 1 FROM json_each(${table}tags) WHERE json_each.value = ?)`);
    params.push(tag);
  }
}

export function scopeOf(request: { agent_id?: unknown; app_id?: unknown; filter?: unknown }): SearchScope {
  const agentIds = new Set<string>();
  const appIds = new Set<string>();
  const tags = new Set<string>();
  const pending: unknown[] = [{ agent_id: request.agent_id, app_id: request.app_id }, request.filter];
  let visited = 0;
  while (pending.length > 0 && visited++ < 200) {
    const condition = pending.pop();
    if (typeof condition !== "object" || condition === null) continue;
    for (const [field, value] of Object.entries(condition)) {
      if (field === "and" && Array.isArray(value)) pending.push(...value);
      if (field === "agent_id" && typeof value === "string") agentIds.add(value);
      if (field === "app_id" && typeof value === "string") appIds.add(value);
      if (field === "tags" && typeof value === "object" && value !== null && "contains" in value) {
        const tag = value.contains;
        if (typeof tag === "string") tags.add(tag);
      }
    }
  }
  const capped = (values: Set<string>) => [...values].slice(0, MAX_SCOPE_VALUES);
  return { agentIds: capped(agentIds), appIds: capped(appIds), tags: capped(tags) };
}
