import type { MemoryBackend } from "./backend";
import { MemosClient, type MemosClientOptions } from "./client";
import {
  memosAddDataSchema,
  memosSearchDataSchema,
  type BackendResult,
  type MemosAddData,
  type MemosAddRequest,
  type MemosSearchData,
  type MemosSearchRequest,
} from "./types";

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
}
