/**
 * Dead letters of queued adds (README "Queued adds"): list the caller's adds
 * that ended `failed`, and send them again through the same enqueue path.
 * Mounted into the `/v1` sub-app, so it shares its auth (a caller sees and
 * re-queues only its own adds) and error shape.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { need } from "../http/middleware";
import { readInput, throwInvalid } from "../http/input";
import { deadLettersRequestSchema, requeueRequestSchema } from "../http/schemas";
import { MAX_DEAD_LETTERS, requeueTasks } from "../queue/enqueue";
import { queuedAddSchema } from "../queue/message";
import { TaskStore } from "../queue/tasks";

export const v1Queue = new Hono<AppEnv>();

v1Queue.post("/v1/queue/dead-letters", async (c) => {
  need(c, "read");
  const { limit } = await readInput(c, deadLettersRequestSchema);
  const tasks = new TaskStore(c.env.DEDUPE_LOCK, c.var.dedupeScope, c.var.config.dedupeTtlSeconds);
  const failed = await tasks.list("failed", limit ?? MAX_DEAD_LETTERS);
  const deadLetters = failed.map((task) => {
    const add = queuedAddSchema.safeParse(task.message === null ? null : JSON.parse(task.message));
    const request = add.success ? add.data.request : undefined;
    return {
      task_id: task.task_id,
      error_code: task.error_code,
      reason: task.reason,
      attempts: task.attempts,
      queued_at: new Date(task.created_at).toISOString(),
      failed_at: new Date(task.updated_at).toISOString(),
      user_id: request?.user_id ?? null,
      conversation_id: request?.conversation_id ?? null,
      message_count: request?.messages.length ?? 0,
      requeueable: request !== undefined,
    };
  });
  const text =
    deadLetters.length === 0
      ? "No failed adds."
      : deadLetters
          .map((letter) => `- ${letter.task_id}: ${letter.reason ?? letter.error_code ?? "failed"}`)
          .join("\n");
  return c.json({ ok: true, dead_letters: deadLetters, count: deadLetters.length, text });
});

v1Queue.post("/v1/queue/requeue", async (c) => {
  need(c, "write");
  const input = await readInput(c, requeueRequestSchema);
  const ids = [...(input.task_ids ?? []), ...(input.task_id === undefined ? [] : [input.task_id])];
  if (ids.length > 0 === (input.all === true))
    throwInvalid("Name task_id (or task_ids), or send all: true.", "task_id");
  const { requeued, skipped } = await requeueTasks(c, input.all === true ? "all" : ids);
  return c.json({
    ok: true,
    requeued,
    skipped,
    count: requeued.length,
    text: `Re-queued ${requeued.length} add${requeued.length === 1 ? "" : "s"}${skipped.length > 0 ? `; ${skipped.length} not failed or unknown` : ""}.`,
  });
});
