import type { MemoryBackend } from "./backend";
import { MemosClient, type MemosAnswer, type MemosClientOptions } from "./client";
import { MemosError } from "./errors";
import {
  DETAIL_LISTS,
  memosAddDataSchema,
  memosDeleteDataSchema,
  memosGetMemoryDataSchema,
  memosMemoryDetailSchema,
  memosMessagesDataSchema,
  memosSearchDataSchema,
  memosTaskStatusSchema,
  type BackendResult,
  type MemosAddData,
  type MemosAddRequest,
  type MemosDeleteData,
  type MemosDeleteRequest,
  type MemosFeedbackRequest,
  type MemosGetMemoryData,
  type MemosGetMemoryRequest,
  type MemosGetMessagesRequest,
  type MemosMemoryDetail,
  type MemosMessagesData,
  type MemosSearchData,
  type MemosSearchRequest,
  type MemosTaskStatus,
  type MemosUpdateRequest,
} from "./types";

/** Deleting a conversation lists the user's memories: at most this many pages of MemOS's largest page. */
const SCAN_PAGE_SIZE = 50;
const MAX_SCAN_PAGES = 20;

/** MemOS's documented maximum for `memory_limit_number`. */
export const MEMOS_MAX_SEARCH_LIMIT = 25;

export interface CloudBackendOptions extends MemosClientOptions {
  addTimeoutMs: number;
  searchTimeoutMs: number;
}

export class CloudBackend implements MemoryBackend {
  readonly kind = "memos";
  readonly maxSearchLimit = MEMOS_MAX_SEARCH_LIMIT;
  readonly #client: MemosClient;
  readonly #addTimeoutMs: number;
  readonly #searchTimeoutMs: number;

  constructor(options: CloudBackendOptions) {
    this.#client = new MemosClient(options);
    this.#addTimeoutMs = options.addTimeoutMs;
    this.#searchTimeoutMs = options.searchTimeoutMs;
  }

  async add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    const answer = await this.#client.post("add/message", request, { timeoutMs: this.#addTimeoutMs });
    return { message: answer.message, data: memosAddDataSchema.parse(answer.data ?? {}) };
  }

  async search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>> {
    const answer = await this.#client.post("search/memory", request, {
      timeoutMs: this.#searchTimeoutMs,
      retryOnce: true,
    });
    return { message: answer.message, data: memosSearchDataSchema.parse(answer.data ?? {}) };
  }

  // Memory management: each call goes to the same MemOS path and no other (no open proxy).
  // Reads are safe to repeat once; writes are not (MemOS may have applied them).

  async getMemories(request: MemosGetMemoryRequest): Promise<BackendResult<MemosGetMemoryData>> {
    const answer = await this.#client.post("get/memory", request, this.#read());
    return { message: answer.message, data: memosGetMemoryDataSchema.parse(answer.data ?? {}) };
  }

  async getMemory(memoryId: string): Promise<BackendResult<MemosMemoryDetail | null>> {
    const answer = await orNotFound(this.#client.get(`get/memory/${encodeURIComponent(memoryId)}`, this.#read()));
    if (answer === null) return { message: "not found", data: null };
    const data = memosMemoryDetailSchema.safeParse(answer.data);
    return { message: answer.message, data: data.success ? data.data : null };
  }

  /**
   * MemOS deletes by ids, user or agent. Two narrower deletes are built from
   * those: ids named together with their user (only that user's ids are
   * touched: each is read first), and a user's conversation (its memories are
   * listed, then deleted by id).
   */
  async deleteMemories(request: MemosDeleteRequest): Promise<BackendResult<MemosDeleteData>> {
    const { conversation_id, ...rest } = request;
    let body: MemosDeleteRequest = rest;
    if (rest.user_id !== undefined && conversation_id !== undefined) {
      body = { memory_ids: await this.#conversationMemoryIds(rest.user_id, conversation_id) };
    } else if (rest.user_id !== undefined && rest.memory_ids !== undefined) {
      body = { memory_ids: await this.#ownedBy(rest.user_id, rest.memory_ids) };
    }
    if (body.memory_ids !== undefined && body.memory_ids.length === 0) {
      return { message: "ok", data: { success: true, deleted: 0 } };
    }
    const answer = await this.#client.post("delete/memory", body, this.#write());
    const data = memosDeleteDataSchema.parse(answer.data ?? {});
    return {
      message: answer.message,
      data: body.memory_ids === undefined ? data : { ...data, deleted: data.deleted ?? body.memory_ids.length },
    };
  }

  async #ownedBy(userId: string, memoryIds: string[]): Promise<string[]> {
    const found = await Promise.all(memoryIds.map((id) => this.getMemory(id)));
    return memoryIds.filter((_id, index) => found[index]?.data?.user_id === userId);
  }

  async #conversationMemoryIds(userId: string, conversationId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; page <= MAX_SCAN_PAGES; page++) {
      const { data } = await this.getMemories({ user_id: userId, page, size: SCAN_PAGE_SIZE });
      const items = Object.keys(DETAIL_LISTS).flatMap(
        (list) => (data[list] as Record<string, unknown>[] | undefined) ?? [],
      );
      for (const item of items) {
        if (item.conversation_id === conversationId && typeof item.id === "string") ids.push(item.id);
      }
      if (items.length === 0 || page >= (data.pages ?? page)) break;
    }
    return ids;
  }

  async updateMemory(request: MemosUpdateRequest): Promise<BackendResult<MemosDeleteData>> {
    const answer = await this.#client.post("update/memory", request, this.#write());
    return { message: answer.message, data: memosDeleteDataSchema.parse(answer.data ?? {}) };
  }

  async taskStatus(taskId: string): Promise<BackendResult<MemosTaskStatus | null>> {
    const answer = await orNotFound(this.#client.post("get/status", { task_id: taskId }, this.#read()));
    if (answer === null) return { message: "not found", data: null };
    // Older MemOS answers a one-item list.
    const item = Array.isArray(answer.data) && answer.data.length === 1 ? answer.data[0] : answer.data;
    const data = memosTaskStatusSchema.safeParse(item);
    return {
      message: answer.message,
      data: data.success ? { ...data.data, task_id: data.data.task_id ?? taskId } : null,
    };
  }

  async addFeedback(request: MemosFeedbackRequest): Promise<BackendResult<MemosAddData>> {
    const answer = await this.#client.post("add/feedback", request, this.#write());
    return { message: answer.message, data: memosAddDataSchema.parse(answer.data ?? {}) };
  }

  async getMessages(request: MemosGetMessagesRequest): Promise<BackendResult<MemosMessagesData>> {
    const answer = await this.#client.post("get/message", request, this.#read());
    return { message: answer.message, data: memosMessagesDataSchema.parse(answer.data ?? {}) };
  }

  #read() {
    return { timeoutMs: this.#addTimeoutMs, retryOnce: true };
  }

  #write() {
    return { timeoutMs: this.#addTimeoutMs };
  }
}

/**
 * MemOS's HTTP 404 for an id it does not know is "not found" (`data: null`),
 * not a refused request: a read of a deleted memory, or the ownership check of
 * a repeated delete, must not fail the call.
 */
async function orNotFound(call: Promise<MemosAnswer>): Promise<MemosAnswer | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof MemosError && error.kind === "rejected" && error.httpStatus === 404) return null;
    throw error;
  }
}
