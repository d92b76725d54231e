/**
 * Dify's retry after a timeout overlaps a slow first attempt: N identical adds
 * arrive together. They must reach MemOS exactly once when it succeeds, and
 * still reach it when the first attempt fails.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addAccepted, json, mockMemos, postJson, sleep } from "./helpers";

const turn = { user_id: "u-1", conversation_id: "c-1", user_message: "I adopted a cat named Miso" };
const N = 10;

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
    const upstream = mockMemos(async (_request, index) => {
      await sleep(200);
      return index === 0 ? new Response("overloaded", { status: 503 }) : addAccepted();
    });
    const responses = await Promise.all(Array.from({ length: N }, () => postJson("/v1/add", turn)));
    const statuses = responses.map((r) => r.status).sort();
    // The first caller sees its own failure; the waiting repeats carry the add through.
    expect(statuses).toEqual([...Array(N - 1).fill(200), 502]);
    expect(upstream).toHaveLength(2);
    const { keys } = await env.DEDUPE.list();
    expect(keys).toHaveLength(1);
    expect(await env.DEDUPE.get<{ state: string }>(keys[0]?.name ?? "", "json")).toMatchObject({ state: "done" });
  });

  it(`${N} at once when MemOS keeps failing: nothing is remembered, a later retry still goes through`, async () => {
    const failing = mockMemos(async () => {
      await sleep(50);
      return new Response("down", { status: 500 });
    });
    const responses = await Promise.all(Array.from({ length: N }, () => postJson("/v1/add", turn)));
    expect(responses.every((r) => r.status === 502)).toBe(true);
    // The first attempt, then one take-over by a waiting repeat; the rest report the failure.
    expect(failing).toHaveLength(2);
    expect((await env.DEDUPE.list()).keys).toEqual([]);
    const recovered = mockMemos(() => addAccepted());
    expect((await postJson("/v1/add", turn)).status).toBe(200);
    expect(recovered).toHaveLength(1);
  });

  it("a repeat seeing another isolate's in-flight marker waits for its result instead of adding again", async () => {
    const upstream = mockMemos(() => addAccepted());
    // The first attempt runs elsewhere: only its KV marker is visible here.
    const first = postJson("/v1/add", turn, undefined, { "Idempotency-Key": "seed" });
    await first;
    const [key] = (await env.DEDUPE.list()).keys;
    const done = await env.DEDUPE.get(key?.name ?? "");
    await env.DEDUPE.put(key?.name ?? "", JSON.stringify({ state: "pending", fingerprint: JSON.parse(done ?? "{}").fingerprint, started_at: Date.now() }));
    const repeat = postJson("/v1/add", turn, undefined, { "Idempotency-Key": "seed" });
    await sleep(400);
    await env.DEDUPE.put(key?.name ?? "", done ?? "");
    const response = await repeat;
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ deduplicated: true });
    expect(upstream).toHaveLength(1);
  });

  it("answers 409 add_in_progress with Retry-After when the in-flight add outlasts DEDUPE_WAIT_MS", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", turn, undefined, { "Idempotency-Key": "slow" });
    const [key] = (await env.DEDUPE.list()).keys;
    const done = JSON.parse((await env.DEDUPE.get(key?.name ?? "")) ?? "{}") as { fingerprint: string };
    await env.DEDUPE.put(key?.name ?? "", JSON.stringify({ state: "pending", fingerprint: done.fingerprint, started_at: Date.now() }));
    const response = await postJson("/v1/add", turn, { MEMOS_API_KEY: "k", DEDUPE_WAIT_MS: "300" }, { "Idempotency-Key": "slow" });
    expect(response.status).toBe(409);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "add_in_progress" } });
    expect(upstream).toHaveLength(1);
  });

  it("takes over from a pending marker left by an attempt that died", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", turn, undefined, { "Idempotency-Key": "dead" });
    const [key] = (await env.DEDUPE.list()).keys;
    const done = JSON.parse((await env.DEDUPE.get(key?.name ?? "")) ?? "{}") as { fingerprint: string };
    const longAgo = Date.now() - 10 * 60_000;
    await env.DEDUPE.put(key?.name ?? "", JSON.stringify({ state: "pending", fingerprint: done.fingerprint, started_at: longAgo }));
    const response = await postJson("/v1/add", turn, undefined, { "Idempotency-Key": "dead" });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(2);
  });
});
