/**
 * The self-hosted, open-source MemOS server as a backend: the same interface
 * as MemOS cloud and the embedded store, served by the server's `/product/*`
 * routes and mapped both ways in mapping.ts. Calls the server has no
 * equivalent for are refused with a 400 that says so, never pretended
 * (docs/memos-server.md).
 */
import type { MemoryBackend } from "../backend";
import { MemosError, UnsupportedCallError } from "../errors";
import type {
  BackendResult,
  MemosAddData,
  MemosAddRequest,
  MemosDeleteData,
  MemosDeleteRequest,
  MemosFeedbackRequest,
  MemosGetMemoryData,
  MemosGetMemoryRequest,
  MemosMemoryDetail,
  MemosMessagesData,
  MemosSearchData,
  MemosSearchRequest,
  MemosTaskStatus,
} from "../types";
import { ServerClient, type ServerClientOptions } from "./client";
import {
  asyncModeOf,
  fromServerMemories,
  fromServerMemory,
  fromServerSearch,
  fromServerStatus,
  isRecord,
  memoryIdsOf,
  newTaskId,
  singleUser,
  toServerAdd,
  toServerFeedback,
  toServerSearch,
  userOfTaskId,
} from "./mapping";

/** The server has no cap on `top_k`; memos-edge's /v1 serves at most 50, and so does this backend. */
export const SERVER_MAX_SEARCH_LIMIT = 50;
/**
 * Deleting a user or a conversation lists their memories and deletes them by
 * id (the one delete every server version does the same way): pages of this
 * size, at most this many (50 subrequests is the Workers Free plan's limit).
 */
const SCAN_PAGE_SIZE = 100;
const MAX_SCAN_PAGES = 20;

export interface ServerBackendOptions extends ServerClientOptions {
  addTimeoutMs: number;
  searchTimeoutMs: number;
}

export class ServerBackend implements MemoryBackend {
  readonly kind = "memos-server";
  readonly maxSearchLimit = SERVER_MAX_SEARCH_LIMIT;
  readonly #client: ServerClient;
  readonly #addTimeoutMs: number;
  readonly #searchTimeoutMs: number;

  constructor(options: ServerBackendOptions) {
    this.#client = new ServerClient(options);
    this.#addTimeoutMs = options.addTimeoutMs;
    this.#searchTimeoutMs = options.searchTimeoutMs;
  }

  /**
   * `/product/add` answers the memories it extracted, never a task id: ours
   * is sent along as its business `task_id`, so `/product/scheduler/status`
   * can report on it later.
   */
  checkAdd(request: MemosAddRequest): void {
    singleUser(request.user_id, request.agent_id);
  }

  async add(request: MemosAddRequest): Promise<BackendResult<MemosAddData>> {
    const userId = singleUser(request.user_id, request.agent_id);
    const taskId = newTaskId(userId);
    const body = toServerAdd(request, taskId);
    const answer = await this.#client.post("add", body, { timeoutMs: this.#addTimeoutMs });
    const extracted = Array.isArray(answer.data) ? answer.data.filter(isRecord) : [];
    return {
      message: answer.message,
      data: {
        success: true,
        task_id: taskId,
        // Async: the server stored a fast extraction and queued the refinement.
        status: body.async_mode === "async" ? "running" : "completed",
        memory_ids: extracted.flatMap((item) => (typeof item.memory_id === "string" ? [item.memory_id] : [])),
      },
    };
  }

  async search(request: MemosSearchRequest): Promise<BackendResult<MemosSearchData>> {
    const body = toServerSearch(request, this.maxSearchLimit);
    const answer = await this.#client.post("search", body, { timeoutMs: this.#searchTimeoutMs, retryOnce: true });
    const conversation = typeof request.conversation_id === "string" ? request.conversation_id : undefined;
    return { message: answer.message, data: fromServerSearch(answer.data, conversation) };
  }

  /** `/product/get_memory` needs the cube: the user's own, as the server defaults everywhere else. */
  async getMemories(request: MemosGetMemoryRequest): Promise<BackendResult<MemosGetMemoryData>> {
    const userId = singleUser(request.user_id, request.agent_id);
    const answer = await this.#client.post("get_memory", this.#listBody(userId, request), this.#read());
    return { message: answer.message, data: fromServerMemories(answer.data, request.page, request.size) };
  }

  #listBody(userId: string, request: { page: number; size: number; filter?: unknown }) {
    return {
      mem_cube_id: userId,
      user_id: userId,
      page: request.page,
      page_size: request.size,
      include_preference: true,
      include_tool_memory: false,
      include_skill_memory: false,
      ...(isRecord(request.filter) ? { filter: request.filter } : {}),
    };
  }

  async getMemory(memoryId: string): Promise<BackendResult<MemosMemoryDetail | null>> {
    // A dot segment would resolve to another route; the server's ids are UUIDs.
    if (memoryId === "." || memoryId === ".." || memoryId.includes("/")) return { message: "not found", data: null };
    const answer = await this.#client.get(`get_memory/${encodeURIComponent(memoryId)}`, {
      ...this.#read(),
      notFoundIsAnswer: true,
    });
    return { message: answer.message, data: fromServerMemory(answer.data) };
  }

  /**
   * Every delete becomes the one every server version does alike: ids with
   * their cubes. Named ids are read first (to learn their cube, and with a
   * user named, to touch only that user's); a user or a conversation is listed
   * from the user's cube, then deleted by id.
   */
  async deleteMemories(request: MemosDeleteRequest): Promise<BackendResult<MemosDeleteData>> {
    if (request.memory_ids !== undefined) {
      const userId = typeof request.user_id === "string" ? request.user_id : undefined;
      const found = await Promise.all(request.memory_ids.map((id) => this.getMemory(id)));
      const targets = found.flatMap(({ data }) =>
        data?.id && data.cube_id && (userId === undefined || data.user_id === userId)
          ? [{ id: data.id, cube: String(data.cube_id) }]
          : [],
      );
      return this.#deleteIds(targets);
    }
    if (typeof request.user_id === "string") {
      const conversation = typeof request.conversation_id === "string" ? request.conversation_id : undefined;
      return conversation === undefined
        ? this.#forgetUser(request.user_id)
        : this.#deleteConversation(request.user_id, conversation);
    }
    if (request.filter !== undefined) {
      // The server's own filter mode; older servers need the cubes and refuse it (a failure, not a success).
      const answer = await this.#client.post("delete_memory", { filter: request.filter }, this.#write());
      return { message: answer.message, data: this.#deleted(answer, undefined) };
    }
    throw new UnsupportedCallError(
      "The self-hosted MemOS server keeps memories per user: delete by memory_ids, user_id (optionally with conversation_id) or filter, not by agent_id.",
      "agent_id",
    );
  }

  async #deleteIds(targets: { id: string; cube: string }[]): Promise<BackendResult<MemosDeleteData>> {
    if (targets.length === 0) return { message: "ok", data: { success: true, deleted: 0 } };
    const body = {
      memory_ids: targets.map(({ id }) => id),
      writable_cube_ids: [...new Set(targets.map(({ cube }) => cube))],
    };
    const answer = await this.#client.post("delete_memory", body, { ...this.#write(), notFoundIsAnswer: true });
    return { message: answer.message, data: this.#deleted(answer, targets.length) };
  }

  /** Lists page 1 and deletes it until the user's cube is empty: deleting shifts the next memories onto page 1. */
  async #forgetUser(userId: string): Promise<BackendResult<MemosDeleteData>> {
    let deleted = 0;
    for (let round = 0; ; round++) {
      const ids = await this.#page(userId, 1);
      if (ids.length === 0) return { message: "ok", data: { success: true, deleted } };
      if (round === MAX_SCAN_PAGES) {
        throw new UnsupportedCallError(
          `Deleted ${deleted} memories of ${userId}, but more remain than one call deletes; send the same delete again.`,
          "user_id",
        );
      }
      const { data } = await this.#deleteIds(ids.map(({ id }) => ({ id, cube: userId })));
      if (data.deleted === 0) {
        throw new MemosError("unavailable", "The MemOS server listed memories it then did not delete", {
          httpStatus: 200,
        });
      }
      deleted += data.deleted ?? ids.length;
    }
  }

  async #deleteConversation(userId: string, conversationId: string): Promise<BackendResult<MemosDeleteData>> {
    const ids: string[] = [];
    for (let page = 1; page <= MAX_SCAN_PAGES; page++) {
      const found = await this.#page(userId, page);
      ids.push(...found.filter(({ sessionId }) => sessionId === conversationId).map(({ id }) => id));
      if (found.length < SCAN_PAGE_SIZE) return this.#deleteIds(ids.map((id) => ({ id, cube: userId })));
    }
    throw new UnsupportedCallError(
      `${userId} has more than ${MAX_SCAN_PAGES * SCAN_PAGE_SIZE} memories; delete this conversation's by memory_ids.`,
      "conversation_id",
    );
  }

  async #page(userId: string, page: number) {
    const body = this.#listBody(userId, { page, size: SCAN_PAGE_SIZE });
    const answer = await this.#client.post("get_memory", body, this.#read());
    return memoryIdsOf(answer.data);
  }

  /** `data.status`: success, partial (newer servers, with `deleted`/`not_found`) or failure, all inside HTTP 200. */
  #deleted(answer: { status: number; message: string; data: unknown }, asked: number | undefined): MemosDeleteData {
    const data = isRecord(answer.data) ? answer.data : {};
    if (answer.status === 404) return { success: true, deleted: 0 };
    if (data.status === "failure") {
      throw new MemosError("unavailable", `The MemOS server did not delete: ${answer.message}`, { httpStatus: 200 });
    }
    const count = Array.isArray(data.deleted)
      ? data.deleted.length
      : asked === undefined
        ? undefined
        : asked - (Array.isArray(data.not_found) ? data.not_found.length : 0);
    return count === undefined ? { success: true } : { success: true, deleted: count };
  }

  updateMemory(): Promise<BackendResult<MemosDeleteData>> {
    return Promise.reject(
      new UnsupportedCallError(
        "The self-hosted MemOS server cannot edit a memory: delete it and add the corrected text.",
        "memory_id",
      ),
    );
  }

  /** `/product/scheduler/status` needs the user: our task ids carry it (mapping.ts). */
  async taskStatus(taskId: string): Promise<BackendResult<MemosTaskStatus | null>> {
    const userId = userOfTaskId(taskId);
    if (userId === undefined) return { message: "not found", data: null };
    if (userId === null) {
      throw new UnsupportedCallError(
        "This task's user id is too long to ride in its task id, and the MemOS server needs the user to find a task.",
        "task_id",
      );
    }
    const query = new URLSearchParams({ user_id: userId, task_id: taskId });
    const answer = await this.#client.get(`scheduler/status?${query.toString()}`, {
      ...this.#read(),
      notFoundIsAnswer: true,
    });
    return { message: answer.message, data: answer.status === 404 ? null : fromServerStatus(answer.data, taskId) };
  }

  async addFeedback(request: MemosFeedbackRequest): Promise<BackendResult<MemosAddData>> {
    const taskId = newTaskId(request.user_id);
    const body = toServerFeedback(request, taskId);
    const answer = await this.#client.post("feedback", body, this.#write());
    return {
      message: answer.message,
      data: {
        success: true,
        task_id: taskId,
        status: asyncModeOf(body.async_mode) === "async" ? "running" : "completed",
      },
    };
  }

  getMessages(): Promise<BackendResult<MemosMessagesData>> {
    return Promise.reject(
      new UnsupportedCallError(
        "The self-hosted MemOS server keeps extracted memories, not the messages of a conversation: search or list memories instead.",
        "conversation_id",
      ),
    );
  }

  #read() {
    return { timeoutMs: this.#addTimeoutMs, retryOnce: true };
  }

  #write() {
    return { timeoutMs: this.#addTimeoutMs };
  }
}
