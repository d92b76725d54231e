/**
 * The producer side of queued adds: which delivery a request asked for, the
 * enqueue itself (validated and built exactly like a direct add, then
 * durably sent, and only then answered), and the re-queue of dead letters,
 * which goes through the same send.
 */
import type { Context } from "hono";
import type { AddDelivery } from "../config";
import { dedupeKeyOf, idempotencyKeyOf } from "../dedupe/add-once";
import { assertSameBody, Deduper } from "../dedupe/deduper";
import type { OpenTaskAnswer } from "../dedupe/lock";
import type { AppEnv, Bindings } from "../env";
import { AppError } from "../http/errors";
import type { MemosAddRequest } from "../memos/types";
import { MAX_MESSAGE_BYTES, queuedAddSchema, taskIdFor, type QueuedAdd } from "./message";
import { newTask, TaskStore, type TaskRecord } from "./tasks";

/**
 * The body's `delivery` first, then `Prefer: respond-async` (RFC 7240), then
 * ADD_DELIVERY. A header cannot ask for direct: a body field can.
 */
export function deliveryOf(c: Context<AppEnv>, bodyDelivery?: AddDelivery): AddDelivery {
  if (bodyDelivery !== undefined) return bodyDelivery;
  if (prefersAsync(c.req.header("Prefer"))) return "queued";
  return c.var.config.addDelivery;
}

function prefersAsync(header: string | undefined): boolean {
  return (header ?? "")
    .split(",")
    .some((preference) => preference.split(";")[0]?.trim().toLowerCase() === "respond-async");
}

export interface QueuedOutcome {
  task: TaskRecord;
  /** The same add was already queued (or delivered): its task is answered and nothing is queued again. */
  replayed: boolean;
}

/**
 * Queues `request` for delivery and records its task as `queued`. A caller
 * retrying the enqueue of the same add (same dedupe key) gets the first task
 * back; the consumer's dedupe covers the rest (a message delivered twice, a
 * direct add of the same add). If the queue refuses, the caller gets 503
 * `queue_unavailable` and nothing is recorded, so its retry goes through.
 */
export async function enqueueAdd(
  c: Context<AppEnv>,
  request: MemosAddRequest,
  bodyIdempotencyKey?: string,
): Promise<QueuedOutcome> {
  const { dedupeScope, config, log } = c.var;
  const key = await dedupeKeyOf(dedupeScope, request, idempotencyKeyOf(c, bodyIdempotencyKey));
  const [shard, storageKey] = await Promise.all([Deduper.shardOf(key.subject), Deduper.storageKey(key)]);
  const taskId = taskIdFor(shard);
  const message: QueuedAdd = {
    v: 1,
    task_id: taskId,
    scope: dedupeScope,
    tenant: c.var.tenant.name,
    subject: key.subject,
    fingerprint: key.fingerprint,
    ...(key.idempotencyKey === undefined ? {} : { idempotency_key: key.idempotencyKey }),
    request,
    enqueued_at: Date.now(),
  };
  if (new TextEncoder().encode(JSON.stringify(message)).byteLength > MAX_MESSAGE_BYTES) {
    throw new AppError(
      "payload_too_large",
      `A queued add is at most ${MAX_MESSAGE_BYTES / 1000} KB (Cloudflare Queues' message limit); send this one with delivery "direct", or split it.`,
    );
  }
  if (prefersAsync(c.req.header("Prefer"))) c.header("Preference-Applied", "respond-async");

  // What the backend would refuse (a namespaced id too long, a group add the server cannot take)
  // is a 4xx now, not a failed task later.
  c.var.backend.checkAdd?.(request);
  const tasks = new TaskStore(c.env.DEDUPE_LOCK, dedupeScope, config.dedupeTtlSeconds);
  const fresh = newTask(taskId, storageKey, key.fingerprint);
  let opened: OpenTaskAnswer | undefined;
  try {
    opened = await tasks.open(fresh);
  } catch {
    // Like dedupe, status fails open: the add is queued all the same, its status written on delivery.
    log.store_error = "lock.openTask";
  }
  if (opened?.created === false) {
    assertSameBody(opened.task.fingerprint, key.fingerprint);
    log.dedupe_hit = true;
    c.header("Idempotent-Replayed", "true");
    return { task: opened.task, replayed: true };
  }
  try {
    await send(c.env, message);
  } catch (error) {
    if (opened) await tasks.drop(taskId).catch(() => undefined);
    throw error;
  }
  return { task: fresh, replayed: false };
}

async function send(env: Bindings, message: QueuedAdd): Promise<void> {
  const queue = env.ADD_QUEUE as Queue<QueuedAdd> | undefined;
  if (queue === undefined) {
    throw new AppError(
      "queue_unavailable",
      'Queued adds need the ADD_QUEUE binding ([[queues.producers]] in wrangler.toml); send the add with delivery "direct".',
    );
  }
  try {
    await queue.send(message, { contentType: "json" });
  } catch (error) {
    throw new AppError("queue_unavailable", "The add could not be queued, so nothing was stored; retry shortly.", {
      retryAfter: 1,
      cause: error,
    });
  }
}

/** Most dead letters listed or re-queued in one call. */
export const MAX_DEAD_LETTERS = 100;

export interface RequeueResult {
  requeued: string[];
  /** Ids that are no failed add of this caller (unknown, expired, or not failed). */
  skipped: string[];
}

/**
 * Sends failed adds again, each under its own task id (its status goes back to
 * `queued`, its attempts start over). Sent first, then marked: a delivery that
 * outruns the mark is never turned back (lock.ts keeps delivered tasks).
 */
export async function requeueTasks(c: Context<AppEnv>, taskIds: string[] | "all"): Promise<RequeueResult> {
  const tasks = new TaskStore(c.env.DEDUPE_LOCK, c.var.dedupeScope, c.var.config.dedupeTtlSeconds);
  const candidates =
    taskIds === "all"
      ? await tasks.list("failed", MAX_DEAD_LETTERS)
      : (await Promise.all(taskIds.map((id) => tasks.get(id)))).filter((task) => task !== null);
  const result: RequeueResult = { requeued: [], skipped: [] };
  for (const task of candidates) {
    const message = task.status === "failed" ? storedMessage(task.message) : undefined;
    if (message === undefined) {
      result.skipped.push(task.task_id);
      continue;
    }
    await send(c.env, { ...message, enqueued_at: Date.now() });
    await tasks.update(task.task_id, { status: "queued", attempts: 0, error_code: null, reason: null });
    result.requeued.push(task.task_id);
  }
  if (taskIds !== "all") {
    for (const id of taskIds) if (!candidates.some((task) => task.task_id === id)) result.skipped.push(id);
  }
  return result;
}

function storedMessage(text: string | null): QueuedAdd | undefined {
  if (text === null) return undefined;
  try {
    const parsed = queuedAddSchema.safeParse(JSON.parse(text));
    // The stored text, not the parsed copy: the request goes out exactly as it was queued.
    return parsed.success ? (JSON.parse(text) as QueuedAdd) : undefined;
  } catch {
    return undefined;
  }
}
