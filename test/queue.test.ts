/**
 * Queued adds (README "Queued adds"). Requests go through the real Worker; the
 * producer binding is swapped for one that keeps what was sent (the queue at
 * its boundary), and the consumer is driven with `createMessageBatch` under
 * Cloudflare Queues' delivery rules (`drain` below): a retried message comes
 * back with `attempts + 1` after its delay, and after `max_retries` it goes to
 * the dead-letter queue. Time is simulated by that clock, never slept. MemOS
 * is mocked only at the fetch boundary.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Bindings } from "../src/env";
import { retryDelaySeconds } from "../src/queue/backoff";
import { ADD_QUEUE_NAME, DEAD_LETTER_QUEUE_NAME } from "../src/queue/message";
import { connect, callTool, textOf } from "./mcp-client";
import {
  CLOUD,
  LOCAL,
  MEMOS_BASE,
  call,
  fakeMemos,
  json,
  memosOk,
  mockMemos,
  postJson,
  sleep,
  type EnvOverrides,
} from "./helpers";

const TASK_ID = /^q-\d{1,2}-[0-9a-f-]{36}$/;

const turn = (n = 1, conversation = "c-1") => ({
  user_id: "u-1",
  conversation_id: conversation,
  messages: [{ role: "user", content: `Fact number ${n}: I like the colour ${n}.` }],
});

interface SentMessage {
  body: Record<string, any>;
}

/** A producer binding that keeps what was sent, for `drain` to deliver. */
function capturingQueue() {
  const sent: SentMessage[] = [];
  const binding = {
    async send(body: unknown) {
      sent.push({ body: structuredClone(body) as Record<string, any> });
    },
    async sendBatch(messages: Iterable<{ body: unknown }>) {
      for (const message of messages) sent.push({ body: structuredClone(message.body) as Record<string, any> });
    },
  };
  /** Messages sent since the last take. */
  const take = () => sent.splice(0, sent.length);
  return { sent, binding, take };
}

type CapturedQueue = ReturnType<typeof capturingQueue>;

function workerEnv(overrides: EnvOverrides): Bindings {
  return { ...env, ...overrides } as unknown as Bindings;
}

interface Pending {
  id: string;
  body: unknown;
  attempts: number;
  /** Simulated second at which the queue delivers it. */
  due: number;
}

interface Drained {
  deliveries: number;
  /** Bodies moved to the dead-letter queue after the last retry. */
  deadLetters: unknown[];
  /** Every retry delay the consumer asked for, with the attempt that failed. */
  retries: { attempt: number; delaySeconds: number }[];
  /** Simulated seconds until the queue was empty. */
  clock: number;
}

/**
 * Delivers everything sent to `queue` the way Cloudflare Queues does with
 * wrangler.toml's consumer settings: batches of up to 10, several at once; a
 * retried message comes back after its delay with one more attempt; after
 * `maxRetries` retries it goes to the dead-letter queue. `onClock` sees the
 * simulated time before each round (a test flips its upstream up there).
 */
async function drain(
  queue: CapturedQueue,
  overrides: EnvOverrides,
  {
    maxRetries = 10,
    parallel = 4,
    onClock,
  }: { maxRetries?: number; parallel?: number; onClock?: (s: number) => void } = {},
): Promise<Drained> {
  const drained: Drained = { deliveries: 0, deadLetters: [], retries: [], clock: 0 };
  let pending: Pending[] = [];
  let seq = 0;
  const intake = () => {
    for (const { body } of queue.take()) pending.push({ id: `m${++seq}`, body, attempts: 1, due: drained.clock });
  };
  intake();
  while (pending.length > 0) {
    drained.clock = Math.max(drained.clock, Math.min(...pending.map((message) => message.due)));
    onClock?.(drained.clock);
    const ready = pending.filter((message) => message.due <= drained.clock);
    pending = pending.filter((message) => message.due > drained.clock);
    const batches: Pending[][] = [];
    for (let i = 0; i < ready.length; i += 10) batches.push(ready.slice(i, i + 10));
    for (let i = 0; i < batches.length; i += parallel) {
      await Promise.all(
        batches.slice(i, i + parallel).map(async (messages) => {
          const batch = createMessageBatch(
            ADD_QUEUE_NAME,
            messages.map(({ id, body, attempts }) => ({ id, body, attempts, timestamp: Date.now() })),
          );
          const delays = recordDelays(batch);
          const ctx = createExecutionContext();
          await worker.queue(batch, workerEnv(overrides), ctx);
          const result = await getQueueResult(batch, ctx);
          drained.deliveries += messages.length;
          for (const message of messages) {
            const retry = result.retryMessages.find((retried) => retried.msgId === message.id);
            if (retry === undefined && !result.retryBatch.retry) continue; // acked
            const delaySeconds = delays.get(message.id) ?? result.retryBatch.delaySeconds ?? 0;
            drained.retries.push({ attempt: message.attempts, delaySeconds });
            if (message.attempts > maxRetries) drained.deadLetters.push(message.body);
            else pending.push({ ...message, attempts: message.attempts + 1, due: drained.clock + delaySeconds });
          }
        }),
      );
    }
    intake();
  }
  return drained;
}

/**
 * The pool's test batch records which messages were retried but not their
 * `delaySeconds`; this keeps them, as the queue would, by watching `retry()`.
 */
function recordDelays(batch: MessageBatch<unknown>): Map<string, number> {
  const delays = new Map<string, number>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds ?? 0);
      retry(options);
    };
  }
  return delays;
}

/** Hands dead letters to the Worker's dead-letter consumer, as Queues does after the last retry. */
async function deliverDeadLetters(bodies: unknown[], overrides: EnvOverrides) {
  const batch = createMessageBatch(
    DEAD_LETTER_QUEUE_NAME,
    bodies.map((body, index) => ({ id: `d${index}`, body, attempts: 1, timestamp: Date.now() })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, workerEnv(overrides), ctx);
  return getQueueResult(batch, ctx);
}

/** A MemOS whose add/message answers 503 while `down()` says so; accepted adds are kept in order. */
function flakyMemos(down: (index: number) => boolean) {
  const accepted: Record<string, any>[] = [];
  const calls = mockMemos(async (request, index) => {
    if (!request.url.endsWith("/add/message")) return memosOk([{ status: "running" }]);
    if (down(index)) return Response.json({ code: 50000, message: "MemOS is down", data: null }, { status: 503 });
    accepted.push((await request.clone().json()) as Record<string, any>);
    return memosOk({ success: true, task_id: `task-${accepted.length}`, status: "running" });
  });
  return { calls, accepted };
}

const contentsOf = (adds: Record<string, any>[]) => adds.map((add) => add.messages[0].content as string);

async function status(taskId: string, overrides: EnvOverrides) {
  return json(await postJson("/v1/status", { task_id: taskId }, overrides));
}

describe("queued adds: answering", () => {
  it("answers 202 with a task id and status queued, without touching the upstream", async () => {
    const upstream = mockMemos(() => memosOk({ success: true, task_id: "task-1", status: "running" }));
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const response = await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides);
    expect(response.status).toBe(202);
    const body = await json(response);
    expect(body).toMatchObject({ ok: true, deduplicated: false, user_id: "u-1", conversation_id: "c-1" });
    expect(body.status).toBe("queued");
    expect(body.task_id).toMatch(TASK_ID);
    expect(body.text).toMatch(/^Queued 1 message for u-1 \(conversation c-1\)/);
    expect(upstream).toHaveLength(0);

    // The message carries what the consumer needs for the same deduped add, and no `delivery`.
    expect(queue.sent).toHaveLength(1);
    const [message] = queue.sent;
    expect(message?.body).toMatchObject({ v: 1, task_id: body.task_id, subject: "u-1" });
    expect(message?.body.scope).toMatch(/^[0-9a-f]{16}$/);
    expect(message?.body.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(message?.body.request).toMatchObject({ user_id: "u-1", conversation_id: "c-1", source: "memos-edge" });
    expect(message?.body.request).not.toHaveProperty("delivery");
    expect(typeof message?.body.enqueued_at).toBe("number");
    expect(await status(body.task_id as string, overrides)).toMatchObject({ ok: true, status: "queued", attempts: 0 });
  });

  it("queues on Prefer: respond-async and by ADD_DELIVERY=queued; a body's delivery wins over both", async () => {
    const upstream = mockMemos(() => memosOk({ success: true, task_id: "task-1", status: "running" }));
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };

    const preferred = await postJson("/v1/add", turn(1), overrides, { Prefer: "wait=5, respond-async" });
    expect(preferred.status).toBe(202);
    expect(preferred.headers.get("Preference-Applied")).toBe("respond-async");

    const configured = await postJson("/v1/add", turn(2), { ...overrides, ADD_DELIVERY: "queued" });
    expect(configured.status).toBe(202);

    const direct = await postJson(
      "/v1/add",
      { ...turn(3), delivery: "direct" },
      { ...overrides, ADD_DELIVERY: "queued" },
    );
    expect(direct.status).toBe(200);
    expect(queue.sent).toHaveLength(2);
    expect(upstream).toHaveLength(1);
    expect(upstream[0]?.body).not.toHaveProperty("delivery");
  });

  it("direct mode is unchanged: 200 after MemOS took the add, nothing queued", async () => {
    const upstream = mockMemos(() => memosOk({ success: true, task_id: "task-1", status: "running" }));
    const queue = capturingQueue();
    const response = await postJson("/v1/add", turn(), { ...CLOUD, ADD_QUEUE: queue.binding });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ deduplicated: false, task_id: "task-1", status: "running" });
    expect(upstream).toHaveLength(1);
    expect(queue.sent).toHaveLength(0);
  });

  it("refuses a bad add before queueing it (400, nothing sent)", async () => {
    const queue = capturingQueue();
    const response = await postJson(
      "/v1/add",
      { messages: "hi", delivery: "queued" },
      { ...CLOUD, ADD_QUEUE: queue.binding },
    );
    expect(response.status).toBe(400);
    const wrongMode = await postJson(
      "/v1/add",
      { ...turn(), delivery: "later" },
      { ...CLOUD, ADD_QUEUE: queue.binding },
    );
    expect(wrongMode.status).toBe(400);
    expect(((await json(wrongMode)).error as Record<string, unknown>).field).toBe("delivery");
    expect(queue.sent).toHaveLength(0);
  });

  it("an enqueue failure answers 503 queue_unavailable and records nothing, so the retry goes through", async () => {
    const broken = { ...CLOUD, ADD_QUEUE: { send: async () => Promise.reject(new Error("Queue send failed: 500")) } };
    const failed = await postJson("/v1/add", { ...turn(), delivery: "queued" }, broken);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("Retry-After")).toBe("1");
    expect(((await json(failed)).error as Record<string, unknown>).code).toBe("queue_unavailable");

    const queue = capturingQueue();
    const retried = await postJson(
      "/v1/add",
      { ...turn(), delivery: "queued" },
      { ...CLOUD, ADD_QUEUE: queue.binding },
    );
    expect(retried.status).toBe(202);
    expect((await json(retried)).deduplicated).toBe(false);
    expect(queue.sent).toHaveLength(1);
  });

  it("the same add enqueued twice (a caller's retry) gets the same task and is queued once; another body under its key is 422", async () => {
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const headers = { "Idempotency-Key": "run-1" };
    const first = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides, headers));
    const again = await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides, headers);
    expect(again.status).toBe(202);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(again)).toMatchObject({ task_id: first.task_id, deduplicated: true, status: "queued" });
    expect(queue.sent).toHaveLength(1);

    const reused = await postJson("/v1/add", { ...turn(2), delivery: "queued" }, overrides, headers);
    expect(reused.status).toBe(422);
    expect(queue.sent).toHaveLength(1);
  });
});

describe("queued adds: delivery", () => {
  it("status moves queued → sent (with MemOS's task id) → completed, on /v1/status and MemOS-compatible get/status", async () => {
    const fake = fakeMemos();
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const { task_id: taskId } = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides));
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "queued", memos_task_id: null });

    await drain(queue, overrides);
    expect(fake.calls.filter((c) => c.url.endsWith("/add/message"))).toHaveLength(1);
    const sent = await status(taskId as string, overrides);
    expect(sent).toMatchObject({ ok: true, task_id: taskId, status: "sent", memos_status: "running", attempts: 1 });
    expect(sent.text).toBe(`Queued add ${taskId} is sent.`);
    const memosTask = sent.memos_task_id as string;
    expect(fake.tasks.has(memosTask)).toBe(true);
    expect(fake.calls.at(-1)).toMatchObject({ url: `${MEMOS_BASE}/get/status`, body: { task_id: memosTask } });

    fake.tasks.set(memosTask, "completed");
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "completed", memos_status: "completed" });
    const compat = await postJson("/api/openmem/v1/get/status", { task_id: taskId }, overrides);
    expect(await json(compat)).toMatchObject({ code: 0, data: { task_id: taskId, status: "completed" } });

    // Another caller's token does not see it; an unknown queued id is 404 without asking MemOS.
    const before = fake.calls.length;
    const other = await call(
      "/v1/status",
      { method: "POST", headers: { Authorization: "Bearer second-token" }, body: JSON.stringify({ task_id: taskId }) },
      overrides,
    );
    expect(other.status).toBe(404);
    expect(fake.calls).toHaveLength(before);
  });

  it("with MemOS down for the first deliveries, every queued add reaches it exactly once after it recovers", async () => {
    const upstream = flakyMemos((index) => index < 12);
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    for (let n = 1; n <= 6; n++) {
      const response = await postJson("/v1/add", { ...turn(n, `c-${n % 2}`), delivery: "queued" }, overrides);
      expect(response.status).toBe(202);
    }
    const drained = await drain(queue, overrides);
    expect(drained.deadLetters).toHaveLength(0);
    expect(contentsOf(upstream.accepted).sort()).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => turn(n).messages[0]!.content).sort(),
    );
    // Backoff from the attempt count: the first retry within 5–10 s (base 10), then doubling.
    const firsts = drained.retries.filter((retry) => retry.attempt === 1).map((retry) => retry.delaySeconds);
    expect(firsts.length).toBeGreaterThan(0);
    for (const delay of firsts) (expect(delay).toBeGreaterThanOrEqual(5), expect(delay).toBeLessThanOrEqual(10));
    for (const retry of drained.retries.filter((r) => r.attempt === 2)) {
      expect(retry.delaySeconds).toBeGreaterThanOrEqual(10);
      expect(retry.delaySeconds).toBeLessThanOrEqual(20);
    }
  });

  it("adds of one conversation in one batch reach MemOS in the order they were queued", async () => {
    let slow = true;
    const order: string[] = [];
    mockMemos(async (request) => {
      const body = (await request.clone().json()) as Record<string, any>;
      // The first add is the slowest: a consumer that ran the conversation's adds side by side would reorder them.
      if (slow) ((slow = false), await sleep(50));
      order.push(body.messages[0].content);
      return memosOk({ success: true, task_id: `task-${order.length}`, status: "running" });
    });
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    for (let n = 1; n <= 5; n++) await postJson("/v1/add", { ...turn(n), delivery: "queued" }, overrides);
    await drain(queue, overrides);
    expect(order).toEqual([1, 2, 3, 4, 5].map((n) => turn(n).messages[0]!.content));
  });

  it("honours MemOS's Retry-After when it asks for longer than the backoff", async () => {
    let calls = 0;
    mockMemos(() =>
      ++calls === 1
        ? Response.json(
            { code: 40300, message: "slow down", data: null },
            { status: 429, headers: { "Retry-After": "120" } },
          )
        : memosOk({ success: true, task_id: "task-1", status: "running" }),
    );
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides);
    const drained = await drain(queue, overrides);
    expect(drained.retries).toEqual([{ attempt: 1, delaySeconds: 120 }]);
    expect(calls).toBe(2);
  });

  it("a 4xx refusal is not retried: the add ends failed with MemOS's reason, listed as a dead letter", async () => {
    const upstream = mockMemos(() =>
      Response.json({ code: 40010, message: "user_id too long", data: null }, { status: 400 }),
    );
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const { task_id: taskId } = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides));
    const drained = await drain(queue, overrides);
    expect(drained.retries).toHaveLength(0);
    expect(upstream).toHaveLength(1);
    const failed = await status(taskId as string, overrides);
    expect(failed).toMatchObject({ status: "failed", error_code: "upstream_rejected", attempts: 1 });
    expect(failed.reason).toMatch(/user_id too long/);
    const letters = await json(await postJson("/v1/queue/dead-letters", {}, overrides));
    expect(letters).toMatchObject({ count: 1, dead_letters: [{ task_id: taskId, requeueable: true, user_id: "u-1" }] });
  });

  it("after the last retry the add is a dead letter with its reason, and a re-queue delivers it once", async () => {
    let up = false;
    const upstream = flakyMemos(() => !up);
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const { task_id: taskId } = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides));

    // max_retries = 3: four deliveries, then the dead-letter queue.
    const drained = await drain(queue, overrides, { maxRetries: 3 });
    expect(drained.deliveries).toBe(4);
    expect(drained.deadLetters).toHaveLength(1);
    expect(upstream.calls).toHaveLength(4);
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "queued", attempts: 4 });
    const result = await deliverDeadLetters(drained.deadLetters, overrides);
    expect(result.explicitAcks).toEqual(["d0"]);
    const failed = await status(taskId as string, overrides);
    expect(failed).toMatchObject({ status: "failed", error_code: "upstream_error", attempts: 4 });
    expect(failed.reason).toMatch(/503/);

    const letters = await json(await postJson("/v1/queue/dead-letters", {}, overrides));
    expect(letters).toMatchObject({ count: 1, dead_letters: [{ task_id: taskId, attempts: 4, message_count: 1 }] });
    expect(letters.text).toMatch(new RegExp(`^- ${taskId}: `));

    up = true;
    const requeued = await json(await postJson("/v1/queue/requeue", { task_id: taskId }, overrides));
    expect(requeued).toMatchObject({ ok: true, requeued: [taskId], skipped: [], count: 1 });
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "queued", attempts: 0, reason: null });
    await drain(queue, overrides);
    expect(upstream.accepted).toHaveLength(1);
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "sent", memos_task_id: "task-1" });
    expect(await json(await postJson("/v1/queue/dead-letters", {}, overrides))).toMatchObject({ count: 0 });

    // Not failed any more: a second re-queue sends nothing.
    const again = await json(await postJson("/v1/queue/requeue", { all: true }, overrides));
    expect(again).toMatchObject({ requeued: [], count: 0 });
    expect(queue.sent).toHaveLength(0);
    expect(upstream.accepted).toHaveLength(1);
  });

  it("re-queue refuses an empty or double request", async () => {
    const overrides = { ...CLOUD, ADD_QUEUE: capturingQueue().binding };
    expect((await postJson("/v1/queue/requeue", {}, overrides)).status).toBe(400);
    expect((await postJson("/v1/queue/requeue", { all: true, task_id: "q-1-x" }, overrides)).status).toBe(400);
    const unknown = await json(
      await postJson("/v1/queue/requeue", { task_ids: ["q-3-0b1e9a4e-0000-4000-8000-000000000000"] }, overrides),
    );
    expect(unknown).toMatchObject({ requeued: [], skipped: ["q-3-0b1e9a4e-0000-4000-8000-000000000000"] });
  });

  it("a message delivered twice, and the same add sent direct afterwards, reach MemOS once", async () => {
    const upstream = flakyMemos(() => false);
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const { task_id: taskId } = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides));
    const [message] = queue.sent;
    queue.sent.push(structuredClone(message!)); // Queues delivers at least once
    await drain(queue, overrides, { parallel: 1 });
    expect(upstream.accepted).toHaveLength(1);
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "sent", deduplicated: true });

    const direct = await postJson("/v1/add", turn(), overrides);
    expect(direct.status).toBe(200);
    expect(await json(direct)).toMatchObject({ deduplicated: true, task_id: "task-1" });
    expect(upstream.accepted).toHaveLength(1);
  });

  it("after a delete, the same add queued again is a new task and reaches MemOS again", async () => {
    const fake = fakeMemos();
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const first = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides));
    await drain(queue, overrides);
    expect((await postJson("/v1/forget", { user_id: "u-1" }, overrides)).status).toBe(200);
    const again = await json(await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides));
    expect(again).toMatchObject({ deduplicated: false, status: "queued" });
    expect(again.task_id).not.toBe(first.task_id);
    await drain(queue, overrides);
    expect(fake.calls.filter((c) => c.url.endsWith("/add/message"))).toHaveLength(2);
    // The first task's status is still there.
    expect(await status(first.task_id as string, overrides)).toMatchObject({ status: "sent" });
  });

  it("drops a message of another shape without retrying it", async () => {
    const upstream = mockMemos(() => memosOk({}));
    const batch = createMessageBatch(ADD_QUEUE_NAME, [
      { id: "x", body: { hello: "world" }, attempts: 1, timestamp: 0 },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, workerEnv(CLOUD), ctx);
    expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: ["x"], retryMessages: [] });
    expect(upstream).toHaveLength(0);
  });
});

describe("queued adds: every surface and backend", () => {
  it("the MemOS-compatible add queues on Prefer: respond-async and answers 202 in MemOS's envelope", async () => {
    const upstream = flakyMemos(() => false);
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const body = { user_id: "u-1", conversation_id: "c-1", messages: [{ role: "user", content: "I like tea." }] };
    const response = await postJson("/api/openmem/v1/add/message", body, overrides, { Prefer: "respond-async" });
    expect(response.status).toBe(202);
    const answer = await json(response);
    expect(answer).toMatchObject({ code: 0, message: "queued", data: { success: true, status: "queued" } });
    const taskId = (answer.data as Record<string, string>).task_id;
    expect(taskId).toMatch(TASK_ID);
    expect(upstream.calls).toHaveLength(0);
    await drain(queue, overrides);
    expect(upstream.accepted).toEqual([expect.objectContaining({ user_id: "u-1", conversation_id: "c-1" })]);

    // Without the header: today's direct add.
    const direct = await postJson("/api/openmem/v1/add/message", { ...body, conversation_id: "c-2" }, overrides);
    expect(direct.status).toBe(200);
    expect(upstream.accepted).toHaveLength(2);
  });

  it("MCP's add_memory queues with delivery: queued", async () => {
    const upstream = flakyMemos(() => false);
    const queue = capturingQueue();
    const overrides = { ...CLOUD, ADD_QUEUE: queue.binding };
    const client = await connect({ overrides });
    const result = await callTool(client, "add_memory", {
      user_id: "u-1",
      user_message: "I like tea.",
      delivery: "queued",
    });
    await client.close();
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "queued", deduplicated: false });
    expect((result.structuredContent as Record<string, string>).task_id).toMatch(TASK_ID);
    expect(textOf(result)).toMatch(/^Queued 1 message for u-1/);
    expect(upstream.calls).toHaveLength(0);
    await drain(queue, overrides);
    expect(contentsOf(upstream.accepted)).toEqual(["I like tea."]);
  });

  it("on the embedded store a queued add completes on delivery, once, and is found", async () => {
    const queue = capturingQueue();
    const overrides = { ...LOCAL, ADD_QUEUE: queue.binding };
    const response = await postJson("/v1/add", { ...turn(), delivery: "queued" }, overrides);
    expect(response.status).toBe(202);
    const { task_id: taskId } = await json(response);
    queue.sent.push(structuredClone(queue.sent[0]!));
    await drain(queue, overrides, { parallel: 1 });
    expect(await status(taskId as string, overrides)).toMatchObject({ status: "completed", memos_status: "completed" });
    const rows = await env.MEMORY_DB.prepare("SELECT COUNT(*) AS n FROM memories WHERE user_id = 'u-1'").first<{
      n: number;
    }>();
    expect(rows?.n).toBe(1);
    const found = await json(await postJson("/v1/search", { user_id: "u-1", query: "colour" }, overrides));
    expect(found.count).toBe(1);
  });

  it(
    "through the real queue binding, the Worker's own consumer delivers the add (embedded store)",
    { timeout: 30_000 },
    async () => {
      // The pool's queue delivers to this Worker's queue() with the pool's env (no MemOS key: the embedded store).
      const response = await postJson("/v1/add", { ...turn(7), delivery: "queued" }, LOCAL);
      expect(response.status).toBe(202);
      const { task_id: taskId } = await json(response);
      let answer: Record<string, unknown> = {};
      for (let i = 0; i < 100 && answer.status !== "completed"; i++) {
        await sleep(200);
        answer = await status(taskId as string, LOCAL);
      }
      expect(answer).toMatchObject({ status: "completed", attempts: 1 });
    },
  );
});

describe("queued adds: acceptance", () => {
  it(
    "1,000 queued adds across a 60 s MemOS outage → 1,000 upstream adds after recovery, 0 duplicates, 0 lost",
    { timeout: 240_000 },
    async () => {
      const OUTAGE_SECONDS = 60;
      let clock = 0;
      const upstream = flakyMemos(() => clock < OUTAGE_SECONDS);
      const queue = capturingQueue();
      // Without the per-token rate limit: 1,000 adds from one token within seconds is the point here.
      const overrides = { ...CLOUD, ADD_QUEUE: queue.binding, RATE_LIMITER: undefined };
      const users = 20;
      const started = Date.now();
      for (let start = 0; start < 1000; start += 20) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const n = start + i;
            const body = {
              user_id: `user-${n % users}`,
              conversation_id: `conv-${n % 50}`,
              messages: [{ role: "user", content: `Outage fact ${n}` }],
              delivery: "queued",
            };
            const response = await postJson("/v1/add", body, overrides);
            if (response.status !== 202) throw new Error(`add ${n}: ${response.status} ${await response.text()}`);
          }),
        );
      }
      expect(queue.sent).toHaveLength(1000);
      const enqueuedMs = Date.now() - started;
      const drained = await drain(queue, overrides, { parallel: 8, onClock: (seconds) => (clock = seconds) });
      const contents = contentsOf(upstream.accepted);
      expect(drained.deadLetters).toHaveLength(0);
      expect(new Set(contents).size).toBe(contents.length); // 0 duplicates
      expect(contents).toHaveLength(1000); // 0 lost
      expect(drained.clock).toBeGreaterThanOrEqual(OUTAGE_SECONDS);
      console.info(
        JSON.stringify({
          deliveries: drained.deliveries,
          upstream_calls: upstream.calls.length,
          simulated_s: drained.clock,
          enqueue_ms: enqueuedMs,
          drain_ms: Date.now() - started - enqueuedMs,
        }),
      );
    },
  );
});

describe("retry delays", () => {
  const options = { baseSeconds: 10, maxSeconds: 600 };
  it("double per attempt from the base, with jitter between half and all of it, capped", () => {
    expect(retryDelaySeconds(1, options, undefined, () => 0)).toBe(5);
    expect(retryDelaySeconds(1, options, undefined, () => 1)).toBe(10);
    expect(retryDelaySeconds(2, options, undefined, () => 1)).toBe(20);
    expect(retryDelaySeconds(4, options, undefined, () => 1)).toBe(80);
    expect(retryDelaySeconds(20, options, undefined, () => 1)).toBe(600);
    expect(retryDelaySeconds(20, options, undefined, () => 0)).toBe(300);
  });
  it("take MemOS's Retry-After when longer, never past Queues' 12 h", () => {
    expect(retryDelaySeconds(1, options, 45, () => 1)).toBe(45);
    expect(retryDelaySeconds(3, options, 2, () => 1)).toBe(40);
    expect(retryDelaySeconds(1, options, 1e9, () => 1)).toBe(43_200);
  });
});
