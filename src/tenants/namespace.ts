/**
 * Tenant isolation towards a remote MemOS (cloud or self-hosted): every user
 * and agent id a tenant sends is prefixed `<tenant>__` on the way out and the
 * prefix is taken off every answer, so callers only ever see their own ids.
 * Calls by memory id are checked against the prefix first: another tenant's
 * memory is "not found", never touched. In the shared space (plain
 * AUTH_TOKENS) nothing is prefixed, but an id that starts like a tenant's
 * prefix is refused, so the shared space cannot reach into a tenant.
 */
import { AppError } from "../http/errors";
import { MAX_ID_LENGTH } from "../http/schemas";
import type { BackendKind, MemoryBackend } from "../memos/backend";
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
  MemosMessagesData,
  MemosSearchData,
  MemosSearchRequest,
  MemosTaskStatus,
  MemosUpdateRequest,
} from "../memos/types";

export const TENANT_SEPARATOR = "__";
/** Keys whose values are user or agent ids, wherever they appear in a request's filter or an answer. */
const ID_KEYS = new Set(["user_id", "agent_id"]);
const MAX_WALK_DEPTH = 16;

export class NamespacedBackend implements MemoryBackend {
  readonly #inner: MemoryBackend;
  readonly #prefix: string;
  /** Prefixes of every tenant, refused in ids of the shared space. */
  readonly #reserved: string[];

  /** `tenant` null: the shared space, which only guards the tenants' prefixes. */
  constructor(inner: MemoryBackend, tenant: string | null, tenantNames: string[]) {
    this.#inner = inner;
    this.#prefix = tenant === null ? "" : `${tenant}${TENANT_SEPARATOR}`;
    this.#reserved = tenant === null ? tenantNames.map((name) => `${name}${TENANT_SEPARATOR}`) : [];
  }

  get kind(): BackendKind {
    return this.#inner.kind;
  }

  get maxSearchLimit(): number {
    return this.#inner.maxSearchLimit;
  }

  async add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    return this.#out(await this.#inner.add(this.#in(request)));
  }

  checkAdd(request: MemosAddRequest): void {
    // Mapped first: the mapping itself refuses (an optional call would skip it with its argument).
    const mapped = this.#in(request);
    this.#inner.checkAdd?.(mapped);
  }

  async search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>> {
    return this.#out(await this.#inner.search(this.#in(request)));
  }

  async getMemories(request: MemosGetMemoryRequest): Promise<BackendResult<MemosGetMemoryData>> {
    return this.#out(await this.#inner.getMemories(this.#in(request)));
  }

  async getMemory(memoryId: string): Promise<BackendResult<MemosMemoryDetail | null>> {
    const answer = await this.#inner.getMemory(memoryId);
    if (answer.data === null || !this.#owns(answer.data)) return { message: "not found", data: null };
    return this.#out(answer);
  }

  async deleteMemories(request: MemosDeleteRequest): Promise<BackendResult<MemosDeleteData>> {
    // A filter could reach across every user of the key or server, tenants' included.
    if (request.filter !== undefined) {
      throw new AppError("invalid_request", "A tenant deletes by memory_ids, user_id or agent_id, not by filter.", {
        field: "filter",
      });
    }
    const mapped = this.#in(request);
    if (mapped.memory_ids !== undefined && mapped.user_id === undefined) {
      mapped.memory_ids = await this.#ownIds(mapped.memory_ids);
      if (mapped.memory_ids.length === 0) return { message: "ok", data: { success: true, deleted: 0 } };
    }
    return this.#out(await this.#inner.deleteMemories(mapped));
  }

  async updateMemory(request: MemosUpdateRequest): Promise<BackendResult<MemosDeleteData>> {
    if ((await this.#ownIds([request.memory_id])).length === 0)
      return { message: "not found", data: { success: false } };
    return this.#inner.updateMemory(request);
  }

  taskStatus(taskId: string): Promise<BackendResult<MemosTaskStatus | null>> {
    // Task ids are random and a status names no one: nothing to namespace.
    return this.#inner.taskStatus(taskId);
  }

  async addFeedback(request: MemosFeedbackRequest): Promise<BackendResult<MemosAddData>> {
    return this.#out(await this.#inner.addFeedback(this.#in(request)));
  }

  async getMessages(request: MemosGetMessagesRequest): Promise<BackendResult<MemosMessagesData>> {
    return this.#out(await this.#inner.getMessages(this.#in(request)));
  }

  async #ownIds(memoryIds: string[]): Promise<string[]> {
    const found = await Promise.all(memoryIds.map((id) => this.#inner.getMemory(id)));
    return memoryIds.filter((_id, index) => {
      const data = found[index]?.data;
      return data != null && this.#owns(data);
    });
  }

  #owns(memory: Record<string, unknown>): boolean {
    if (this.#prefix === "") return ![memory.user_id, memory.agent_id].some((id) => this.#isReserved(id));
    return [memory.user_id, memory.agent_id].some((id) => typeof id === "string" && id.startsWith(this.#prefix));
  }

  #isReserved(id: unknown): boolean {
    return typeof id === "string" && this.#reserved.some((prefix) => id.startsWith(prefix));
  }

  /** The request with every user and agent id (top level and in filters) in the tenant's namespace. */
  #in<T extends Record<string, unknown>>(request: T): T {
    return mapIds(request, (id, key) => this.#name(id, key), 0) as T;
  }

  #out<R extends BackendResult<unknown>>(answer: R): R {
    if (this.#prefix === "") return answer;
    const prefix = this.#prefix;
    return { ...answer, data: mapIds(answer.data, (id) => (id.startsWith(prefix) ? id.slice(prefix.length) : id), 0) };
  }

  #name(id: string, field: string): string {
    if (this.#isReserved(id)) {
      throw new AppError("invalid_request", `${field} must not start with a tenant's prefix.`, { field });
    }
    const named = `${this.#prefix}${id}`;
    if (named.length > MAX_ID_LENGTH) {
      throw new AppError(
        "invalid_request",
        `${field} is too long for this tenant: at most ${MAX_ID_LENGTH - this.#prefix.length} characters (MemOS's limit is ${MAX_ID_LENGTH}, and the tenant's name takes the rest).`,
        { field },
      );
    }
    return named;
  }
}

/** A copy of `value` with `map` applied to the string (or string-list) values of user and agent id keys. */
function mapIds(value: unknown, map: (id: string, key: string) => string, depth: number): unknown {
  if (depth > MAX_WALK_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => mapIds(item, map, depth + 1));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (ID_KEYS.has(key) && typeof item === "string") out[key] = map(item, key);
    else if (ID_KEYS.has(key) && Array.isArray(item)) {
      out[key] = item.map((id) => (typeof id === "string" ? map(id, key) : id));
    } else if (ID_KEYS.has(key) && typeof item === "object" && item !== null) {
      // An operator (`{"in": [...]}`) could name ids outside the namespace: only plain ids are taken.
      throw new AppError("invalid_request", `${key} must be an id or a list of ids here.`, { field: key });
    } else out[key] = mapIds(item, map, depth + 1);
  }
  return out;
}
