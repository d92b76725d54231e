/**
 * The status records of queued adds, kept in the dedupe lock objects (lock.ts
 * `tasks`) so they live where dedupe state lives and expire with it
 * (DEDUPE_TTL_SECONDS after their last change). A task id names its shard, so
 * a lookup is one call; listing a caller's dead letters asks all 16 shards.
 * Not KV: a task changes state within a second (KV takes one write per second
 * per key) and the Free plan's 1,000 KV writes a day would be spent in hours.
 */
import type { DedupeLock, OpenTaskAnswer, TaskPatch, TaskRecord, TaskStatus } from "../dedupe/lock";
import { LOCK_SHARDS, lockShardName } from "../dedupe/deduper";
import { shardOfTaskId } from "./message";

export type { TaskRecord, TaskStatus } from "../dedupe/lock";

export class TaskStore {
  readonly #locks: DurableObjectNamespace<DedupeLock>;
  readonly #scope: string;
  readonly #ttlMs: number;

  constructor(locks: DurableObjectNamespace<DedupeLock>, scope: string, ttlSeconds: number) {
    this.#locks = locks;
    this.#scope = scope;
    this.#ttlMs = ttlSeconds * 1000;
  }

  open(task: TaskRecord): Promise<OpenTaskAnswer> {
    return this.#shard(task.task_id).openTask(task, this.#ttlMs);
  }

  update(taskId: string, patch: TaskPatch): Promise<TaskRecord> {
    return this.#shard(taskId).updateTask(taskId, patch, this.#ttlMs);
  }

  /** The task, or null when the id is none of ours, or another caller's, or expired. */
  async get(taskId: string): Promise<TaskRecord | null> {
    if (shardOfTaskId(taskId) === undefined) return null;
    return this.#shard(taskId).getTask(taskId);
  }

  async drop(taskId: string): Promise<void> {
    await this.#shard(taskId).dropTask(taskId);
  }

  /** The caller's tasks in `status`, oldest first, at most `limit`. */
  async list(status: TaskStatus, limit: number): Promise<TaskRecord[]> {
    const shards = await Promise.all(
      Array.from({ length: LOCK_SHARDS }, (_, shard) =>
        this.#locks.getByName(lockShardName(this.#scope, shard)).listTasks(status, limit),
      ),
    );
    return shards
      .flat()
      .sort((a, b) => a.updated_at - b.updated_at)
      .slice(0, limit);
  }

  #shard(taskId: string): DurableObjectStub<DedupeLock> {
    return this.#locks.getByName(lockShardName(this.#scope, shardOfTaskId(taskId) ?? 0));
  }
}

export { newTask } from "../dedupe/lock";
