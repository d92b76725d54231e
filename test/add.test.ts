import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CLOUD, MEMOS_BASE, MEMOS_KEY, addAccepted, call, dedupeKeys, json, mockMemos, postJson } from "./helpers";

const turn = {
  user_id: "u-1",
  conversation_id: "c-1",
  messages: [
    { role: "user", content: "I moved to Lisbon last spring." },
    { role: "assistant", content: "Lisbon is lovely. How is the move going?" },
  ],
};

describe("POST /v1/add (MemOS backend)", () => {
  it("sends the conversation to MemOS add/message with the Token key and answers a readable result", async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", turn);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    const body = await json(response);
    expect(body).toEqual({
      ok: true,
      deduplicated: false,
      user_id: "u-1",
      conversation_id: "c-1",
      message_count: 2,
      task_id: "task-1",
      status: "running",
      text: "Added 2 messages to memory for u-1 (conversation c-1).",
    });

    expect(upstream).toHaveLength(1);
    const [sent] = upstream;
    expect(sent?.url).toBe(`${MEMOS_BASE}/add/message`);
    expect(sent?.method).toBe("POST");
    expect(sent?.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    expect(sent?.headers.get("Content-Type")).toBe("application/json");
    expect(sent?.body).toMatchObject({
      user_id: "u-1",
      conversation_id: "c-1",
      source: "memos-edge",
      messages: [
        { role: "user", content: "I moved to Lisbon last spring." },
        { role: "assistant", content: "Lisbon is lovely. How is the move going?" },
      ],
    });
  });

  it("turns user_message and assistant_message into messages in that order", async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", { user_id: "u-1", assistant_message: "Hi!", user_message: "Hello" });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ message_count: 2, conversation_id: null });
    const sent = upstream[0]?.body as { messages: { role: string; content: string }[]; conversation_id?: string };
    expect(sent.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Hello"],
      ["assistant", "Hi!"],
    ]);
    expect(sent).not.toHaveProperty("conversation_id");
  });

  it("writes the dedupe record only after MemOS accepted the add", async () => {
    mockMemos(() => addAccepted());
    expect(await dedupeKeys()).toEqual([]);
    await postJson("/v1/add", turn);
    const keys = await dedupeKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^dedupe:v1:[0-9a-f]{16}:body:[0-9a-f]{64}$/);
    const record = await env.DEDUPE.get<{ fingerprint: string; result: unknown }>(keys[0] ?? "", "json");
    expect(record).toMatchObject({
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      result: { data: { task_id: "task-1" } },
    });
    expect(JSON.stringify(record)).not.toContain(MEMOS_KEY);
  });

  it("replays a completed add without calling MemOS again", async () => {
    const upstream = mockMemos(() => addAccepted());
    const first = await json(await postJson("/v1/add", turn));
    const repeat = await postJson("/v1/add", turn);
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get("Idempotent-Replayed")).toBe("true");
    const body = await json(repeat);
    expect(body).toMatchObject({ ok: true, deduplicated: true, task_id: first.task_id, message_count: 2 });
    expect(upstream).toHaveLength(1);
  });

  it("keeps two callers' identical adds apart", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", turn);
    const other = await postJson("/v1/add", turn, CLOUD, { Authorization: "Bearer second-token" });
    expect(await json(other)).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(2);
  });

  it("loses no add: after MemOS fails, the retry reaches MemOS and succeeds", async () => {
    const upstream = mockMemos((_request, index) =>
      index === 0 ? new Response("boom", { status: 500 }) : addAccepted(),
    );
    const failed = await postJson("/v1/add", turn);
    expect(failed.status).toBe(502);
    expect(await json(failed)).toMatchObject({ ok: false, error: { code: "upstream_error", upstream_status: 500 } });
    expect(await dedupeKeys()).toEqual([]);

    const retry = await postJson("/v1/add", turn);
    expect(retry.status).toBe(200);
    expect(await json(retry)).toMatchObject({ ok: true, deduplicated: false });
    expect(upstream).toHaveLength(2);
  });

  it("does not retry an add by itself when MemOS fails (MemOS may have accepted it)", async () => {
    const upstream = mockMemos(() => new Response("bad gateway", { status: 502 }));
    expect((await postJson("/v1/add", turn)).status).toBe(502);
    expect(upstream).toHaveLength(1);
  });

  it("uses the idempotency key (field or header) instead of the body", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", { ...turn, idempotency_key: "run-1" });
    const viaHeader = await postJson("/v1/add", turn, CLOUD, { "Idempotency-Key": "run-1" });
    expect(await json(viaHeader)).toMatchObject({ deduplicated: true });
    expect(upstream).toHaveLength(1);
    expect(await dedupeKeys()).toEqual([expect.stringMatching(/:key:[0-9a-f]{64}$/)]);
  });

  it("refuses the same idempotency key with a different body (422)", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", { ...turn, idempotency_key: "run-2" });
    const reused = await postJson("/v1/add", { ...turn, user_message: "something else", idempotency_key: "run-2" });
    expect(reused.status).toBe(422);
    expect(await json(reused)).toMatchObject({ ok: false, error: { code: "idempotency_key_reused" } });
    expect(upstream).toHaveLength(1);
  });

  it("dedupes a retry that differs only in chat_time", async () => {
    const upstream = mockMemos(() => addAccepted());
    const stamped = (time: string) => ({
      user_id: "u-1",
      conversation_id: "c-1",
      messages: [{ role: "user", content: "same words", chat_time: time }],
    });
    await postJson("/v1/add", stamped("2026-11-26T10:00:00.000001Z"));
    const retry = await postJson("/v1/add", stamped("2026-11-26T10:00:05.123456Z"));
    expect(await json(retry)).toMatchObject({ deduplicated: true });
    expect(upstream).toHaveLength(1);
  });

  it("stamps chat_time (ISO 8601 UTC) on messages that have none and keeps the caller's", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", {
      user_id: "u-1",
      messages: [
        { role: "user", content: "a", chat_time: "2025-01-02T03:04:05Z" },
        { role: "assistant", content: "b" },
      ],
    });
    const sent = upstream[0]?.body as { messages: { chat_time: string }[] };
    expect(sent.messages[0]?.chat_time).toBe("2025-01-02T03:04:05Z");
    expect(sent.messages[1]?.chat_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("answers 401 without a token and makes no upstream call", async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await call("/v1/add", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(turn),
    });
    expect(response.status).toBe(401);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    expect(upstream).toHaveLength(0);
  });

  it("treats the same words with other tags, info or agent as another add, and refuses them under a reused key", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", { ...turn, info: { project: "p1" } });
    const other = await postJson("/v1/add", { ...turn, info: { project: "p2" } });
    expect(await json(other)).toMatchObject({ deduplicated: false });
    expect(upstream).toHaveLength(2);
    await postJson("/v1/add", { ...turn, tags: ["a"], idempotency_key: "k1" });
    const reused = await postJson("/v1/add", { ...turn, tags: ["b"], idempotency_key: "k1" });
    expect(reused.status).toBe(422);
    expect(upstream).toHaveLength(3);
  });
});
