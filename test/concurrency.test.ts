/**
 * Dify's retry after a timeout overlaps a slow first attempt: N identical adds
 * arrive together. They must reach MemOS exactly once when it succeeds, and
 * still reach it when the first attempt fails. The in-flight lock is a Durable
 * Object per shard of the caller; tests drive it directly to play "another isolate".
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Deduper } from "../src/dedupe/deduper";
import { addFingerprint } from "../src/dedupe/fingerprint";
import { CLOUD, TOKEN, addAccepted, callerId, json, mockMemos, postJson, sleep } from "./helpers";

const turn = { user_id: "u-1", conversation_id: "c-1", user_message: "I adopted a cat named Miso" };
const N = 10;

/** The lock another isolate's attempt would hold for `idempotencyKey`, as that add's key sees it. */
async function lockFor(idempotencyKey: string) {
  const scope = await callerId(TOKEN);
  const fingerprint = await addFingerprint({
    user_id: turn.user_id,
    conversation_id: turn.conversation_id,
    messages: [{ role: "user", content: turn.user_message }],
  });
  const key = await Deduper.storageKey({ scope, fingerprint, idempotencyKey });
  const object = env.DEDUPE_LOCK.getByName(await Deduper.lockName(scope, turn.user_id));
  const lock = {
    claim: (fp: string, owner: string, leaseMs: number) => object.claim(key, fp, owner, leaseMs),
    complete: (owner: string, fp: string, result: unknown, ttlMs: number) =>
      object.complete(key, owner, fp, result, ttlMs),
    release: (owner: string) => object.release(key, owner),
  };
  return { lock, fingerprint };
}

/** Counts upstream adds running at the same time. */
function concurrencyProbe() {
  let running = 0;
  let peak = 0;
  return {
    async around<T>(work: () => Promise<T>): Promise<T> {
      peak = Math.max(peak, ++running);
      try {
        return await work();
      } finally {
        running--;
      }
    },
    get peak() {
      return peak;
    },
  };
}

describe("concurrent identical adds", () => {
  it(`${N} at once against a slow MemOS reach it exactly once, and all get its answer`, async () => {
    const upstream = mockMemos(async () => {
      await sleep(300);
      return addAccepted();
    });
    const responses = await Promise.all(Array.from({ length: N }, () => postJson("/v1/add", turn)));
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const bodies = await Promise.all(responses.map(json));
    expect(upstream).toHaveLength(1);
    expect(bodies.filter((b) => b.deduplicated === false)).toHaveLength(1);
    expect(bodies.filter((b) => b.deduplicated === true)).toHaveLength(N - 1);
    expect(new Set(bodies.map((b) => b.task_id))).toEqual(new Set(["task-1"]));
  });

  it(`${N} at once when the first attempt fails: the add still reaches MemOS, once more, and is remembered`, async () => {
    const probe = concurrencyProbe();
    const upstream = mockMemos((_request, index) =>
      probe.around(async () => {
        await sleep(200);
        return index === 0 ? new Response("overloaded", { status: 503 }) : addAccepted();
      }),
    );
    const responses = await Promise.all(Array.from({ length: N }, () => postJson("/v1/add", turn)));
    const statuses = responses.map((r) => r.status).sort();
    // The first caller sees its own failure; a waiting repeat then makes the add, the rest replay it.
    expect(statuses).toEqual([...Array(N - 1).fill(200), 502]);
    expect(upstream).toHaveLength(2);
    expect(probe.peak).toBe(1);
    expect((await env.DEDUPE.list()).keys).toHaveLength(1);
  });

  it(`${N} at once when MemOS keeps failing: never two attempts at once, nothing remembered, a later retry goes through`, async () => {
    const probe = concurrencyProbe();
    const failing = mockMemos(() =>
      probe.around(async () => {
        await sleep(20);
        return new Response("down", { status: 500 });
      }),
    );
    const responses = await Promise.all(Array.from({ length: N }, () => postJson("/v1/add", turn)));
    expect(responses.every((r) => r.status === 502)).toBe(true);
    expect(probe.peak).toBe(1);
    expect(failing.length).toBeGreaterThan(0);
    expect((await env.DEDUPE.list()).keys).toEqual([]);
    const recovered = mockMemos(() => addAccepted());
    expect((await postJson("/v1/add", turn)).status).toBe(200);
    expect(recovered).toHaveLength(1);
  });

  it("a repeat arriving while another isolate holds the add waits for its result instead of adding again", async () => {
    const upstream = mockMemos(() => addAccepted());
    const { lock, fingerprint } = await lockFor("run-1");
    expect(await lock.claim(fingerprint, "other-isolate", 30_000)).toEqual({ state: "claimed" });
    const repeat = postJson("/v1/add", turn, CLOUD, { "Idempotency-Key": "run-1" });
    await sleep(300);
    const result = { message: "ok", data: { success: true, task_id: "task-elsewhere", status: "running" } };
    await lock.complete("other-isolate", fingerprint, result, 60_000);
    const response = await repeat;
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ deduplicated: true, task_id: "task-elsewhere" });
    expect(upstream).toHaveLength(0);
  });

  it("answers 409 add_in_progress with Retry-After when the in-flight add outlasts DEDUPE_WAIT_MS", async () => {
    const upstream = mockMemos(() => addAccepted());
    const { lock, fingerprint } = await lockFor("slow");
    await lock.claim(fingerprint, "other-isolate", 30_000);
    const response = await postJson(
      "/v1/add",
      turn,
      { ...CLOUD, DEDUPE_WAIT_MS: "300" },
      { "Idempotency-Key": "slow" },
    );
    expect(response.status).toBe(409);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "add_in_progress" } });
    expect(upstream).toHaveLength(0);
  });

  it("a waiting repeat takes the add over when the other attempt fails", async () => {
    const upstream = mockMemos(() => addAccepted());
    const { lock, fingerprint } = await lockFor("failing-elsewhere");
    await lock.claim(fingerprint, "other-isolate", 30_000);
    const repeat = postJson("/v1/add", turn, CLOUD, { "Idempotency-Key": "failing-elsewhere" });
    await sleep(250);
    await lock.release("other-isolate");
    const response = await repeat;
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(1);
  });

  it("takes over from a claim left by an attempt that died (lease expired)", async () => {
    const upstream = mockMemos(() => addAccepted());
    const { lock, fingerprint } = await lockFor("dead");
    await lock.claim(fingerprint, "dead-isolate", 1);
    await sleep(5);
    const response = await postJson("/v1/add", turn, CLOUD, { "Idempotency-Key": "dead" });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(1);
  });

  it("replays from the lock when KV has not caught up with a completed add (eventual consistency)", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", turn);
    const { keys } = await env.DEDUPE.list();
    await Promise.all(keys.map((key) => env.DEDUPE.delete(key.name)));
    const repeat = await postJson("/v1/add", turn);
    expect(await json(repeat)).toMatchObject({ deduplicated: true });
    expect(upstream).toHaveLength(1);
  });

  it("lives within KV's limit of one write per second per key: replays after success, lets retries through after failure", async () => {
    const lastWrite = new Map<string, number>();
    let throttled = 0;
    const limited = async (key: string, write: () => Promise<void>) => {
      const previous = lastWrite.get(key);
      if (previous !== undefined && Date.now() - previous < 1_000) {
        throttled++;
        throw new Error("KV PUT failed: 429 Too Many Requests");
      }
      lastWrite.set(key, Date.now());
      await write();
    };
    const throttledKv = {
      get: env.DEDUPE.get.bind(env.DEDUPE),
      list: env.DEDUPE.list.bind(env.DEDUPE),
      put: (key: string, value: string, options?: KVNamespacePutOptions) =>
        limited(key, () => env.DEDUPE.put(key, value, options)),
      delete: (key: string) => limited(key, () => env.DEDUPE.delete(key)),
    };
    const kv = { ...CLOUD, DEDUPE: throttledKv };
    const upstream = mockMemos((_request, index) =>
      index === 0 ? new Response("down", { status: 500 }) : addAccepted(),
    );
    const attempts = [];
    for (let i = 0; i < 4; i++) attempts.push(await postJson("/v1/add", turn, kv)); // Dify: first try + 3 retries
    expect(attempts.map((r) => r.status)).toEqual([502, 200, 200, 200]);
    expect(await Promise.all(attempts.slice(1).map(async (r) => (await json(r)).deduplicated))).toEqual([
      false,
      true,
      true,
    ]);
    expect(upstream).toHaveLength(2);
    expect(throttled).toBe(0);
  });

  it("keeps waiting, and never adds, when the lock fails while another attempt holds it", async () => {
    const upstream = mockMemos(() => addAccepted());
    const { lock, fingerprint } = await lockFor("flaky");
    await lock.claim(fingerprint, "other-isolate", 30_000);
    let claims = 0;
    const flakyLocks = {
      getByName: (name: string) => {
        const real = env.DEDUPE_LOCK.getByName(name);
        return {
          claim: (...args: Parameters<typeof real.claim>) => {
            if (++claims === 2) throw new Error("Durable Object is overloaded");
            return real.claim(...args);
          },
          complete: (...args: Parameters<typeof real.complete>) => real.complete(...args),
          release: (...args: Parameters<typeof real.release>) => real.release(...args),
        };
      },
    };
    const repeat = postJson("/v1/add", turn, { ...CLOUD, DEDUPE_LOCK: flakyLocks }, { "Idempotency-Key": "flaky" });
    await sleep(400);
    await lock.complete("other-isolate", fingerprint, { message: "ok", data: { task_id: "t-other" } }, 60_000);
    const response = await repeat;
    expect(claims).toBeGreaterThan(2);
    expect(await json(response)).toMatchObject({ deduplicated: true, task_id: "t-other" });
    expect(upstream).toHaveLength(0);
  });

  it("adds without the lock when it cannot be reached and nobody was seen holding it", async () => {
    const upstream = mockMemos(() => addAccepted());
    const down = {
      getByName: () => ({
        claim: async () => {
          throw new Error("Durable Object unavailable");
        },
      }),
    };
    const response = await postJson("/v1/add", turn, { ...CLOUD, DEDUPE_LOCK: down });
    expect(response.status).toBe(200);
    expect(upstream).toHaveLength(1);
  });

  it("records an accepted add even when its lease passed to another attempt meanwhile", async () => {
    const { lock, fingerprint } = await lockFor("late");
    await lock.claim(fingerprint, "slow-attempt", 30_000);
    await lock.release("slow-attempt");
    await lock.claim(fingerprint, "next-attempt", 30_000);
    await lock.complete("slow-attempt", fingerprint, { message: "ok", data: { task_id: "t-slow" } }, 60_000);
    expect(await lock.claim(fingerprint, "third", 30_000)).toMatchObject({
      state: "done",
      result: { data: { task_id: "t-slow" } },
    });
  });
});
