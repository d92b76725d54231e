/**
 * The dedupe lock is one Durable Object per shard of a scope (16 per caller
 * token), not one per add: what sharing an object must never cost.
 */
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Deduper, LOCK_SHARDS } from "../src/dedupe/deduper";
import { addFingerprint } from "../src/dedupe/fingerprint";
import { CLOUD, TOKEN, addAccepted, callerId, json, mockMemos, postJson, sleep } from "./helpers";

/** Two user ids whose adds meet in the same lock object. */
async function usersSharingAShard(scope: string): Promise<[string, string]> {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const user = `user-${i}`;
    const name = await Deduper.lockName(scope, user);
    const other = seen.get(name);
    if (other !== undefined) return [other, user];
    seen.set(name, user);
  }
}

describe("dedupe lock shards", () => {
  it("reuses warm objects: 40 fresh adds of 40 users create at most 16 lock objects", async () => {
    const upstream = mockMemos(() => addAccepted());
    for (let i = 0; i < 40; i++) {
      expect((await postJson("/v1/add", { user_id: `u${i}`, user_message: `fact ${i}` })).status).toBe(200);
    }
    expect(upstream).toHaveLength(40);
    expect((await listDurableObjectIds(env.DEDUPE_LOCK)).length).toBeLessThanOrEqual(LOCK_SHARDS);
  });

  it("never lets one user's running add hold up another user's add in the same object", async () => {
    const scope = await callerId(TOKEN);
    const [slowUser, fastUser] = await usersSharingAShard(scope);
    let releaseSlow: () => void = () => undefined;
    const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
    const upstream = mockMemos(async (request) => {
      const body = (await request.clone().json()) as { user_id: string };
      if (body.user_id === slowUser) await slowGate;
      return addAccepted();
    });
    const slow = postJson("/v1/add", { user_id: slowUser, user_message: "slow one" });
    await sleep(50);
    const fast = await postJson("/v1/add", { user_id: fastUser, user_message: "fast one" });
    expect(fast.status).toBe(200);
    expect(await json(fast)).toMatchObject({ deduplicated: false });
    releaseSlow();
    expect((await slow).status).toBe(200);
    expect(upstream).toHaveLength(2);
  });

  it("a lease held on one key does not hold up another key of the same object", async () => {
    const scope = await callerId(TOKEN);
    const [holder, other] = await usersSharingAShard(scope);
    const heldFingerprint = await addFingerprint({ user_id: holder, messages: [{ role: "user", content: "held" }] });
    const heldKey = await Deduper.storageKey({ scope, fingerprint: heldFingerprint });
    const object = env.DEDUPE_LOCK.getByName(await Deduper.lockName(scope, holder));
    expect(await object.claim(heldKey, heldFingerprint, "another-isolate", 30_000)).toEqual({ state: "claimed" });

    const upstream = mockMemos(() => addAccepted());
    const response = await postJson(
      "/v1/add",
      { user_id: other, user_message: "not held" },
      { ...CLOUD, DEDUPE_WAIT_MS: "200" },
    );
    expect(response.status).toBe(200);
    expect(upstream).toHaveLength(1);
  });

  it("forgets completed adds after a delete, so the same add is made again", async () => {
    const scope = await callerId(TOKEN);
    const upstream = mockMemos(() => addAccepted());
    const turn = { user_id: "forgetful", user_message: "I live in Porto" };
    await postJson("/v1/add", turn);
    expect(await json(await postJson("/v1/add", turn))).toMatchObject({ deduplicated: true });

    const deduper = new Deduper(
      { kv: env.DEDUPE, locks: env.DEDUPE_LOCK },
      { ttlSeconds: 3600, waitMs: 1000, leaseMs: 30_000, waitUntil: () => undefined, onStoreError: () => undefined },
    );
    await deduper.forgetScope(scope);
    expect(await json(await postJson("/v1/add", turn))).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(2);
  });

  it("does not record an add that completes after a delete that happened while it ran", async () => {
    const scope = await callerId(TOKEN);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const upstream = mockMemos(async (_request, index) => {
      if (index === 0) await gate;
      return addAccepted();
    });
    const turn = { user_id: "racer", user_message: "raced with a delete" };
    const first = postJson("/v1/add", turn);
    await sleep(50);
    const deduper = new Deduper(
      { kv: env.DEDUPE, locks: env.DEDUPE_LOCK },
      { ttlSeconds: 3600, waitMs: 1000, leaseMs: 30_000, waitUntil: () => undefined, onStoreError: () => undefined },
    );
    await deduper.forgetScope(scope);
    release();
    expect((await first).status).toBe(200);
    expect(await json(await postJson("/v1/add", turn))).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(2);
  });
  it("a fresh add asks the lock, not KV: KV is written once and read only when the lock is unreachable", async () => {
    mockMemos(() => addAccepted());
    const calls: string[] = [];
    const counted = new Proxy(env.DEDUPE, {
      get(target, name: string) {
        const value = Reflect.get(target, name) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(name);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const overrides = { ...CLOUD, DEDUPE: counted as KVNamespace };
    expect((await postJson("/v1/add", { user_id: "kv-reads", user_message: "first" }, overrides)).status).toBe(200);
    expect(calls).toEqual(["put"]);
    const replay = await postJson("/v1/add", { user_id: "kv-reads", user_message: "first" }, overrides);
    expect(await json(replay)).toMatchObject({ deduplicated: true });
    expect(calls).toEqual(["put"]);
  });
});
