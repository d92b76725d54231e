/**
 * The consumer of queued adds (this Worker's `queue()` handler). Each message
 * is delivered through `addDeduped`, the same deduped add a direct request
 * makes, so a message delivered twice, or an add also sent direct, reaches
 * the backend once. Then, per message:
 *   - accepted → ack; the task becomes `sent` (with MemOS's task id) or
 *     `completed` (the embedded store finishes at once);
 *   - refused for good (a 4xx: bad input, a reused idempotency key) → ack; the
 *     task becomes `failed` with the reason and the message kept for re-queue;
 *   - anything else (MemOS down, slow, rate-limiting, a store hiccup) → retry
 *     with a backoff delay (backoff.ts); after wrangler.toml's `max_retries`
 *     Queues moves it to the dead-letter queue, whose batches come here too and
 *     mark the task `failed` with the last reason.
 *
 * Order: messages of one conversation in a batch are delivered one after
 * another in batch order; conversations run side by side. Queues itself does
 * not promise order, and a retried add comes back after later ones, so order
 * per conversation is best effort; each message keeps its own `chat_time`.
 */
import { readConfig } from "../config";
import { addDeduped, type AddDeps } from "../dedupe/add-once";
import type { Bindings } from "../env";
import { AppError, toAppError } from "../http/errors";
import { backendFor, type MemoryBackend } from "../memos/backend";
import { TenantConfigError, type Tenant } from "../tenants/config";
import { retryDelaySeconds } from "./backoff";
import { DEAD_LETTER_QUEUE_NAME, queuedAddSchema, type QueuedAdd } from "./message";
import { TaskStore } from "./tasks";

/** Our own answers that a retry can change: the add is still running elsewhere, or a rate limit. */
const TRANSIENT_4XX = new Set(["add_in_progress", "rate_limited", "upstream_rate_limited"]);

export async function consumeAdds(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE_NAME) {
    await Promise.all(batch.messages.map((message) => recordDeadLetter(message, env)));
    return;
  }
  const config = readConfig(env);
  const base: AddDeps = {
    env,
    config,
    backend: backendFor(env, config),
    waitUntil: (work) => ctx.waitUntil(work),
    onStoreError: (operation) => console.warn(JSON.stringify({ queue: batch.queue, store_error: operation })),
  };
  const conversations = new Map<string, { message: Message<unknown>; add: QueuedAdd }[]>();
  for (const message of batch.messages) {
    const add = parse(message, batch.queue);
    if (add === undefined) continue;
    const conversation = `${add.scope}\n${add.subject}\n${add.request.conversation_id ?? add.task_id}`;
    conversations.set(conversation, [...(conversations.get(conversation) ?? []), { message, add }]);
  }
  await Promise.all(
    [...conversations.values()].map(async (group) => {
      for (const { message, add } of group) await deliver(message, add, base);
    }),
  );
}

async function deliver(message: Message<unknown>, add: QueuedAdd, base: AddDeps): Promise<void> {
  const { config } = base;
  const tasks = new TaskStore(base.env.DEDUPE_LOCK, add.scope, config.dedupeTtlSeconds);
  const key = {
    scope: add.scope,
    subject: add.subject,
    fingerprint: add.fingerprint,
    idempotencyKey: add.idempotency_key,
  };
  const line = { queue: "adds", task_id: add.task_id, attempt: message.attempts, backend: base.backend.kind };
  try {
    const deps = { ...base, backend: backendOf(base.env, add) };
    const { result, replayed } = await addDeduped(deps, key, add.request);
    const status = result.data.status === "completed" ? "completed" : "sent";
    await recordTask(tasks, add.task_id, {
      status,
      attempts: message.attempts,
      memos_task_id: result.data.task_id ?? null,
      memos_status: result.data.status ?? null,
      deduplicated: replayed,
      error_code: null,
      reason: null,
      message: null,
    });
    message.ack();
    log({ ...line, outcome: status, dedupe_hit: replayed, lag_ms: Date.now() - add.enqueued_at });
  } catch (error) {
    const failure = toAppError(error);
    const failed = { attempts: message.attempts, error_code: failure.code, reason: failure.message };
    if (isPermanent(failure)) {
      await recordTask(tasks, add.task_id, { ...failed, status: "failed", message: JSON.stringify(add) });
      message.ack();
      log({ ...line, outcome: "failed", error_code: failure.code, upstream_status: failure.upstreamStatus });
      return;
    }
    const delaySeconds = retryDelaySeconds(
      message.attempts,
      { baseSeconds: config.queueRetryBaseSeconds, maxSeconds: config.queueRetryMaxSeconds },
      failure.retryAfter,
    );
    await recordTask(tasks, add.task_id, { ...failed, status: "queued" });
    message.retry({ delaySeconds });
    log({
      ...line,
      outcome: "retry",
      error_code: failure.code,
      upstream_status: failure.upstreamStatus,
      delay_s: delaySeconds,
    });
  }
}

/**
 * The backend of the add's memory space, as a request of its tenant would have
 * it. A TENANTS that no longer parses fails the delivery (retried: it may be
 * fixed); a tenant no longer configured is refused for good.
 */
function backendOf(env: Bindings, add: QueuedAdd): MemoryBackend {
  const config = readConfig(env);
  const table = config.tenants;
  if (table instanceof TenantConfigError) throw new AppError("not_configured", table.message);
  if (table.names.length === 0) {
    // A tenant's add must never land in the shared space because TENANTS was removed meanwhile.
    if (add.tenant != null) {
      throw new AppError("invalid_request", `Tenant ${add.tenant} is no longer configured; the add was not delivered.`);
    }
    return backendFor(env, config);
  }
  const tenant = add.tenant == null ? SHARED_SPACE : table.tenants.find((candidate) => candidate.name === add.tenant);
  if (tenant === undefined) {
    throw new AppError("invalid_request", `Tenant ${add.tenant} is no longer configured; the add was not delivered.`);
  }
  return backendFor(env, config, tenant, table.names);
}

const SHARED_SPACE: Tenant = { name: null, scopes: new Set(), memosApiKey: undefined, memosBaseUrl: undefined };

/** A refusal that the same add will get again: not retried. */
function isPermanent(failure: AppError): boolean {
  return failure.status >= 400 && failure.status < 500 && !TRANSIENT_4XX.has(failure.code);
}

/** After the last retry: the task is `failed` with the last delivery's reason, and keeps the add for re-queue. */
async function recordDeadLetter(message: Message<unknown>, env: Bindings): Promise<void> {
  const add = parse(message, DEAD_LETTER_QUEUE_NAME);
  if (add === undefined) return;
  const tasks = new TaskStore(env.DEDUPE_LOCK, add.scope, readConfig(env).dedupeTtlSeconds);
  try {
    const current = await tasks.get(add.task_id);
    await tasks.update(add.task_id, {
      status: "failed",
      error_code: current?.error_code ?? "retries_exhausted",
      reason: current?.reason ?? "Not delivered after the last retry.",
      message: JSON.stringify(add),
    });
    message.ack();
    log({ queue: "dead-letters", task_id: add.task_id, outcome: "failed", error_code: current?.error_code ?? null });
  } catch {
    // Nowhere to record it yet: the dead-letter queue delivers it again.
    message.retry({ delaySeconds: 30 });
    log({ queue: "dead-letters", task_id: add.task_id, outcome: "retry", store_error: "lock.updateTask" });
  }
}

/** A message of another shape is dropped (acked) with a log line: no retry can make it deliverable. */
function parse(message: Message<unknown>, queue: string): QueuedAdd | undefined {
  const parsed = queuedAddSchema.safeParse(message.body);
  if (parsed.success) return parsed.data;
  message.ack();
  log({ queue, message_id: message.id, outcome: "dropped", error_code: "invalid_message" });
  return undefined;
}

/** Status is best effort: a lock hiccup never turns a delivered add into a retry (it would be replayed anyway). */
async function recordTask(tasks: TaskStore, taskId: string, patch: Parameters<TaskStore["update"]>[1]): Promise<void> {
  try {
    await tasks.update(taskId, patch);
  } catch {
    log({ queue: "adds", task_id: taskId, store_error: "lock.updateTask" });
  }
}

/** One JSON line per message; never the message text. */
function log(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}
