/**
 * The embedded memory store: MemOS's add/search contract served from D1
 * (SQLite + FTS5), for running offline or self-hosted without a MemOS account.
 * It stores each message as a memory; it does not extract facts or preferences.
 */
import type { MemoryBackend } from "./backend";
import { StoreError } from "./errors";
import { foldText, likePattern, planQuery, relevance, round } from "./fts-query";
import type {
  BackendResult,
  MemosAddData,
  MemosAddRequest,
  MemosMessage,
  MemosSearchData,
  MemosSearchRequest,
} from "./types";

/** Same default as MemOS when `memory_limit_number` is absent. */
const DEFAULT_LIMIT = 9;
export const LOCAL_MAX_SEARCH_LIMIT = 50;
const LOCAL_MEMORY_TYPE = "LongTermMemory";
/** bm25 orders candidates; the final order is by relevance, so look a little past the limit. */
const CANDIDATE_FACTOR = 4;

interface MemoryRow {
  id: string;
  conversation_id: string;
  agent_id: string | null;
  app_id: string | null;
  role: string;
  content: string;
  tags: string;
  created_at: number;
  rank: number;
}

/** Conditions the store can honour from MemOS's search fields and `filter`. */
interface SearchScope {
  agentIds: string[];
  appIds: string[];
  tags: string[];
}

export class LocalBackend implements MemoryBackend {
  readonly kind = "local";
  readonly maxSearchLimit = LOCAL_MAX_SEARCH_LIMIT;
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    return guarded("add", () => this.#add(request));
  }

  search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>> {
    return guarded("search", () => this.#search(request));
  }

  async #add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    const userIds = Array.isArray(request.user_id) ? request.user_id : [request.user_id ?? ""];
    // MemOS makes up a conversation id when none is given; so do we, one per add,
    // so the messages of one add stay grouped.
    const conversationId = request.conversation_id ?? `conv-${crypto.randomUUID()}`;
    const tags = JSON.stringify(request.tags ?? []);
    const now = Date.now();
    const insert = this.#db.prepare(
      `INSERT INTO memories (id, user_id, conversation_id, agent_id, app_id, role, content, tags, chat_time, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
    );
    const statements = userIds.flatMap((userId) =>
      request.messages.map((message, index) =>
        insert.bind(
          crypto.randomUUID(),
          userId,
          conversationId,
          request.agent_id ?? null,
          request.app_id ?? null,
          message.role,
          contentText(message),
          tags,
          message.chat_time ?? null,
          // Keeps the order of one add's messages when they share a millisecond.
          now + index,
        ),
      ),
    );
    if (statements.length > 0) await this.#db.batch(statements);
    return {
      message: "ok",
      data: { success: true, task_id: crypto.randomUUID(), status: "completed", conversation_id: conversationId },
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

    const where: string[] = ["m.user_id = ?"];
    const params: unknown[] = [request.user_id ?? ""];
    if (request.conversation_id) {
      where.push("m.conversation_id = ?");
      params.push(request.conversation_id);
    }
    // Conditions are AND-ed, as in MemOS's `and` list: two different agent ids match nothing.
    for (const agentId of scope.agentIds) {
      where.push("m.agent_id = ?");
      params.push(agentId);
    }
    for (const appId of scope.appIds) {
      where.push("m.app_id = ?");
      params.push(appId);
    }
    for (const tag of scope.tags) {
      where.push("EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)");
      params.push(tag);
    }

    const columns = "m.id, m.conversation_id, m.agent_id, m.app_id, m.role, m.content, m.tags, m.created_at";
    const candidates = limit * CANDIDATE_FACTOR;
    let scored: { row: MemoryRow; relativity: number }[] = [];
    if (plan.match !== null) {
      const sql = `SELECT ${columns}, bm25(memories_fts) AS rank
        FROM memories_fts JOIN memories m ON m.rowid = memories_fts.rowid
        WHERE memories_fts MATCH ? AND ${where.join(" AND ")}
        ORDER BY rank ASC, m.created_at DESC, m.rowid DESC LIMIT ?`;
      const rows = (
        await this.#db
          .prepare(sql)
          .bind(plan.match, ...params, candidates)
          .all<MemoryRow>()
      ).results;
      const bestRank = rows[0]?.rank ?? 0;
      // Short terms (two-character Chinese words) cannot be matched by the index, but they count here.
      const allTerms = [...plan.terms, ...plan.shortTerms];
      scored = rows.map((row) => {
        const content = foldText(row.content);
        const coverage = allTerms.filter((term) => content.includes(term)).length / allTerms.length;
        return { row, relativity: relevance(coverage, row.rank, bestRank) };
      });
    } else if (plan.shortTerms.length > 0) {
      // Below trigram length the index cannot help; count matching terms instead.
      const hits = plan.shortTerms.map(() => "(m.content LIKE ? ESCAPE '\\')");
      const sql = `SELECT ${columns}, (${hits.join(" + ")}) AS rank
        FROM memories m
        WHERE ${where.join(" AND ")} AND (${hits.join(" OR ")})
        ORDER BY rank DESC, m.created_at DESC, m.rowid DESC LIMIT ?`;
      const patterns = plan.shortTerms.map(likePattern);
      const rows = (
        await this.#db
          .prepare(sql)
          .bind(...patterns, ...params, ...patterns, candidates)
          .all<MemoryRow>()
      ).results;
      scored = rows.map((row) => ({ row, relativity: round(row.rank / plan.shortTerms.length) }));
    }

    // Stable sort: among equal scores the SQL order (newest first) stands.
    scored.sort((a, b) => b.relativity - a.relativity);
    const memories = scored
      .filter(({ relativity }) => relativity >= threshold)
      .slice(0, limit)
      .map(({ row, relativity }) => ({
        id: row.id,
        memory_key: row.role,
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
}

/** D1 errors become one typed error; their text (SQL, values) stays in the cause, off the wire. */
async function guarded<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
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

function parseTags(value: string): string[] {
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
function scopeOf(request: MemosSearchRequest): SearchScope {
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
