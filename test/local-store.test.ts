import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LOCAL, json, mockMemos, postJson } from "./helpers";

async function add(body: Record<string, unknown>) {
  const response = await postJson("/v1/add", body, LOCAL);
  expect(response.status).toBe(200);
  return json(response);
}

async function search(body: Record<string, unknown>) {
  const response = await postJson("/v1/search", body, LOCAL);
  expect(response.status).toBe(200);
  return json(response) as Promise<{
    text: string;
    count: number;
    memories: { content: string; score: number; type: string; conversation_id: string }[];
  }>;
}

describe("embedded store (no MEMOS_API_KEY)", () => {
  it("adds a conversation, then finds it by search, offline", async () => {
    const upstream = mockMemos(() => new Response("must not be called", { status: 500 }));
    const added = await add({
      user_id: "alice",
      conversation_id: "c1",
      user_message: "My favourite fruit is mango.",
      assistant_message: "Noted: mango it is.",
    });
    expect(added).toMatchObject({ ok: true, deduplicated: false, message_count: 2, status: "completed" });
    const found = await search({ user_id: "alice", query: "favourite fruit" });
    expect(found.count).toBeGreaterThan(0);
    expect(found.memories[0]).toMatchObject({
      content: "My favourite fruit is mango.",
      type: "fact",
      conversation_id: "c1",
    });
    expect(found.memories[0]?.score).toBeGreaterThan(0);
    expect(found.memories[0]?.score).toBeLessThanOrEqual(1);
    expect(found.text).toContain("Facts:\n- My favourite fruit is mango.");
    expect(upstream).toHaveLength(0);
  });

  it("stores each message as a row with user, conversation, role and a stable id", async () => {
    await add({ user_id: "alice", conversation_id: "c1", user_message: "hello there", assistant_message: "hi!" });
    const { results } = await env.MEMORY_DB.prepare(
      "SELECT id, user_id, conversation_id, role, content, created_at FROM memories ORDER BY created_at",
    ).all<{
      id: string;
      user_id: string;
      conversation_id: string;
      role: string;
      content: string;
      created_at: number;
    }>();
    expect(results.map((row) => [row.user_id, row.conversation_id, row.role, row.content])).toEqual([
      ["alice", "c1", "user", "hello there"],
      ["alice", "c1", "assistant", "hi!"],
    ]);
    expect(new Set(results.map((row) => row.id)).size).toBe(2);
  });

  it("finds Chinese text, including two-character words", async () => {
    await add({ user_id: "li", user_message: "我最喜欢的水果是芒果" });
    await add({ user_id: "li", user_message: "明天去北京出差" });
    const phrase = await search({ user_id: "li", query: "我最喜欢的水果是什么" });
    expect(phrase.memories[0]?.content).toBe("我最喜欢的水果是芒果");
    const word = await search({ user_id: "li", query: "芒果" });
    expect(word.memories.map((m) => m.content)).toEqual(["我最喜欢的水果是芒果"]);
    const other = await search({ user_id: "li", query: "北京" });
    expect(other.memories.map((m) => m.content)).toEqual(["明天去北京出差"]);
  });

  it("ranks the better English match first", async () => {
    await add({ user_id: "bob", user_message: "I drink green tea every morning" });
    await add({ user_id: "bob", user_message: "My sister likes coffee" });
    await add({ user_id: "bob", user_message: "Green tea with jasmine is my favourite tea" });
    const found = await search({ user_id: "bob", query: "favourite green tea" });
    expect(found.memories[0]?.content).toBe("Green tea with jasmine is my favourite tea");
    expect(found.memories.map((m) => m.content)).not.toContain("My sister likes coffee");
  });

  it("never shows one user's memories to another", async () => {
    await add({ user_id: "alice", user_message: "alice's secret project is Falcon" });
    await add({ user_id: "bob", user_message: "bob's project is Heron" });
    const found = await search({ user_id: "bob", query: "secret project Falcon" });
    expect(found.memories.map((m) => m.content)).toEqual(["bob's project is Heron"]);
  });

  it("filters by conversation_id when given", async () => {
    await add({ user_id: "carol", conversation_id: "trip", user_message: "Booked a hotel in Porto" });
    await add({ user_id: "carol", conversation_id: "work", user_message: "Booked a meeting room" });
    const found = await search({ user_id: "carol", conversation_id: "work", query: "booked" });
    expect(found.memories.map((m) => m.content)).toEqual(["Booked a meeting room"]);
  });

  it("puts the newest first among equal matches", async () => {
    await add({ user_id: "dan", conversation_id: "a", user_message: "weekly standup notes" });
    await add({ user_id: "dan", conversation_id: "b", user_message: "weekly standup notes" });
    const found = await search({ user_id: "dan", query: "standup" });
    expect(found.memories.map((m) => m.conversation_id)).toEqual(["b", "a"]);
  });

  it.each([
    '"',
    '"unbalanced',
    "tea*",
    "-tea",
    "tea OR coffee",
    "(tea",
    "tea)",
    "NEAR(tea coffee)",
    "content:tea",
    "^tea",
    "100%",
    "a_b",
    "\\",
    "*",
    "''",
  ])("treats FTS5 syntax in %j as plain text, never a 500", async (query) => {
    await add({ user_id: "eve", user_message: "tea or coffee, 100% sure" });
    const response = await postJson("/v1/search", { user_id: "eve", query }, LOCAL);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ ok: true });
  });

  it("answers an empty result when nothing matches", async () => {
    await add({ user_id: "frank", user_message: "I like hiking" });
    const found = await search({ user_id: "frank", query: "quantum chromodynamics" });
    expect(found).toMatchObject({ count: 0, memories: [], text: "No relevant memories found." });
  });

  it("respects top_k", async () => {
    for (let i = 0; i < 5; i++) await add({ user_id: "gina", user_message: `note number ${i} about cats` });
    const found = await search({ user_id: "gina", query: "cats", top_k: 3 });
    expect(found.count).toBe(3);
  });

  it("dedupes a repeated add the same way as the cloud backend", async () => {
    const turn = { user_id: "hank", conversation_id: "c", user_message: "only once please" };
    await add(turn);
    const again = await add(turn);
    expect(again).toMatchObject({ deduplicated: true });
    const row = await env.MEMORY_DB.prepare("SELECT COUNT(*) AS n FROM memories WHERE user_id = 'hank'").first<{
      n: number;
    }>();
    expect(row?.n).toBe(1);
  });

  it("groups the messages of one add under one generated conversation id when none is given", async () => {
    const added = await add({ user_id: "ivy", user_message: "first", assistant_message: "second" });
    expect(added.conversation_id).toMatch(/^conv-/);
    const { results } = await env.MEMORY_DB.prepare(
      "SELECT DISTINCT conversation_id FROM memories WHERE user_id = 'ivy'",
    ).all();
    expect(results).toHaveLength(1);
  });
});

describe("embedded store: newest memories first, the rest of history when they are not enough", () => {
  const windowOf2 = { ...LOCAL, SEARCH_RECENT_WINDOW: "2" };
  const addAll = async (contents: string[]) => {
    for (const content of contents) await postJson("/v1/add", { user_id: "win", user_message: content }, windowOf2);
  };
  const find = async (query: string, top_k = 3) =>
    (
      (await json(await postJson("/v1/search", { user_id: "win", query, top_k }, windowOf2))).memories as {
        content: string;
      }[]
    ).map((m) => m.content);

  it("finds an old memory holding every term even when newer rows match some of them", async () => {
    await addAll(["purple elephant parade in Lisbon", "a purple scarf", "an elephant toy"]);
    expect((await find("purple elephant"))[0]).toBe("purple elephant parade in Lisbon");
  });

  it("reaches into old history when the newest rows hold too few matches", async () => {
    await addAll(["quokka photos from Perth", "unrelated one", "unrelated two"]);
    expect(await find("quokka")).toEqual(["quokka photos from Perth"]);
  });

  it("answers from the newest rows alone when they already hold enough matches", async () => {
    await addAll(["walrus fact one", "walrus fact two", "walrus fact three"]);
    expect((await find("walrus", 2)).sort()).toEqual(["walrus fact three", "walrus fact two"]);
  });

  it("applies the window to two-character Chinese words too", async () => {
    await addAll(["我爱芒果", "今天下雨", "明天晴天"]);
    expect(await find("芒果")).toEqual(["我爱芒果"]);
  });

  it("does not stop on recent partial matches when an older memory holds more of the terms", async () => {
    await addAll(["falcon harbor", "falcon one", "falcon two", "falcon three"]);
    const windowOf3 = { ...LOCAL, SEARCH_RECENT_WINDOW: "3" };
    const search = async (extra: Record<string, unknown>) =>
      (
        (
          await json(
            await postJson(
              "/v1/search",
              { user_id: "win", query: "falcon harbor lantern", top_k: 3, ...extra },
              windowOf3,
            ),
          )
        ).memories as { content: string }[]
      ).map((m) => m.content);
    expect((await search({}))[0]).toBe("falcon harbor");
    expect(await search({ relativity: 0.5 })).toEqual(["falcon harbor"]);
  });

  it("finds a memory holding every short word before memories holding one", async () => {
    await addAll(["明天去北京出差", "北京下雨", "北京很冷"]);
    expect((await find("北京 出差", 2))[0]).toBe("明天去北京出差");
  });

  it("scores a memory the same whichever stage found it", async () => {
    await addAll(["walrus", "a very long sentence about many things that ends with a walrus"]);
    const scores = async (window: string) =>
      (
        (
          await json(
            await postJson(
              "/v1/search",
              { user_id: "win", query: "walrus" },
              { ...LOCAL, SEARCH_RECENT_WINDOW: window },
            ),
          )
        ).memories as { content: string; score: number }[]
      ).map((m) => [m.content, m.score]);
    expect(await scores("1")).toEqual(await scores("20000"));
  });
});
