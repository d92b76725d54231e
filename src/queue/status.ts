/**
 * A queued add's status for the status routes (`/v1/status`, MemOS-compatible
 * `get/status`): memos-edge's own record first; once MemOS has the add
 * (`sent`), MemOS is asked about its own task, and its verdict is folded in.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import { shardOfTaskId } from "./message";
import { TaskStore, type TaskStatus } from "./tasks";

export interface QueuedTaskView {
  task_id: string;
  status: TaskStatus;
  memos_task_id: string | null;
  memos_status: string | null;
  attempts: number;
  deduplicated: boolean;
  error_code: string | null;
  reason: string | null;
  queued_at: string;
  updated_at: string;
}

const DONE = /^(completed|complete|success|succeeded|done|finished)$/i;
const FAILED = /^(failed|failure|error)$/i;

/** undefined: not one of memos-edge's task ids (ask the backend). A queued id unknown to this caller → 404. */
export async function queuedTaskStatus(c: Context<AppEnv>, taskId: string): Promise<QueuedTaskView | undefined> {
  if (shardOfTaskId(taskId) === undefined) return undefined;
  const tasks = new TaskStore(c.env.DEDUPE_LOCK, c.var.dedupeScope, c.var.config.dedupeTtlSeconds);
  let task;
  try {
    task = await tasks.get(taskId);
  } catch (error) {
    throw new AppError("dedupe_unavailable", "The status of queued adds could not be read; retry shortly.", {
      retryAfter: 1,
      cause: error,
    });
  }
  if (task === null) {
    throw new AppError("not_found", `No task ${taskId} is known (task records expire with DEDUPE_TTL_SECONDS).`, {
      field: "task_id",
    });
  }
  let { status, memos_status } = task;
  if (status === "sent" && task.memos_task_id !== null) {
    try {
      const { data } = await c.var.backend.taskStatus(task.memos_task_id);
      memos_status = data?.status ?? memos_status;
    } catch {
      // MemOS cannot say right now: what memos-edge knows stands.
    }
    if (memos_status !== null && DONE.test(memos_status)) status = "completed";
    else if (memos_status !== null && FAILED.test(memos_status)) status = "failed";
  }
  return {
    task_id: task.task_id,
    status,
    memos_task_id: task.memos_task_id,
    memos_status,
    attempts: task.attempts,
    deduplicated: task.deduplicated,
    error_code: task.error_code,
    reason: task.reason,
    queued_at: new Date(task.created_at).toISOString(),
    updated_at: new Date(task.updated_at).toISOString(),
  };
}
