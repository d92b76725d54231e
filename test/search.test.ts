import { describe, expect, it } from "vitest";
import { MEMOS_BASE, MEMOS_KEY, authed, call, json, memosOk, mockMemos, postJson, searchData } from "./helpers";

const query = { user_id: "u-1", query: "Where should I stay in Guangzhou?" };

describe("POST /v1/search (MemOS backend)", () => {
  it("asks MemOS search/memory (with preferences) and answers text, memories and count", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await postJson("/v1/search", { ...query, top_k: 5, conversation_id: "0610" });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toEqual({
      ok: true,
      text:
        "Facts:\n- Summer trip: The user plans to visit Guangzhou this summer.\n\n" +
        "Preferences:\n- The user likely prefers good-value hotels.",
      memories: [
        {
          id: "mem-1",
          content: "The user plans to visit Guangzhou this summer.",
          type: "fact",
          score: 0.83,
          created_at: new Date(1766494806624).toISOString(),
          conversation_id: "0610",
        },
        {
          id: "pref-1",
          content: "The user likely prefers good-value hotels.",
          type: "preference",
          score: null,
          created_at: null,
          conversation_id: "0610",
        },
      ],
      count: 2,
    });
    expect(upstream).toHaveLength(1);
    expect(upstream[0]?.url).toBe(`${MEMOS_BASE}/search/memory`);
    expect(upstream[0]?.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    expect(upstream[0]?.body).toEqual({
      user_id: "u-1",
      query: "Where should I stay in Guangzhou?",
      conversation_id: "0610",
      memory_limit_number: 5,
      include_preference: true,
      source: "memos-edge",
    });
  });

  it("defaults top_k to 10", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    await postJson("/v1/search", query);
    expect(upstream[0]?.body).toMatchObject({ memory_limit_number: 10 });
  });

  it("answers only the text with ?format=text", async () => {
    mockMemos(() => memosOk(searchData()));
    const response = await postJson("/v1/search?format=text", query);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(await response.text()).toBe(
      "Facts:\n- Summer trip: The user plans to visit Guangzhou this summer.\n\n" +
        "Preferences:\n- The user likely prefers good-value hotels.",
    );
  });

  it("answers only the text when Accept asks for text/plain and not JSON", async () => {
    mockMemos(() => memosOk(searchData()));
    const plain = await postJson("/v1/search", query, undefined, { Accept: "text/plain" });
    expect(plain.headers.get("Content-Type")).toMatch(/^text\/plain/);
    mockMemos(() => memosOk(searchData()));
    const both = await postJson("/v1/search", query, undefined, { Accept: "text/plain, application/json" });
    expect(both.headers.get("Content-Type")).toMatch(/^application\/json/);
    mockMemos(() => memosOk(searchData()));
    const any = await postJson("/v1/search", query, undefined, { Accept: "*/*" });
    expect(any.headers.get("Content-Type")).toMatch(/^application\/json/);
  });

  it("says so in text when nothing matched", async () => {
    mockMemos(() => memosOk({ memory_detail_list: [], preference_detail_list: [] }));
    const body = await json(await postJson("/v1/search", query));
    expect(body).toMatchObject({ ok: true, count: 0, memories: [], text: "No relevant memories found." });
  });

  it("puts every MemOS detail list in memories with its type and under its own heading", async () => {
    mockMemos(() =>
      memosOk({
        ...searchData(),
        profile_detail_list: [{ id: "p1", memory_key: "Home", memory_value: "Lives in Lisbon" }],
        event_detail_list: [{ id: "e1", memory_value: "Moved in spring 2026" }],
        tool_memory_detail_list: [{ id: "t1", memory_value: "Uses the weather tool daily" }],
        skill_detail_list: [{ id: "s1", memory_value: "Speaks Portuguese" }],
      }),
    );
    const body = await json(await postJson("/v1/search", query));
    const memories = body.memories as { type: string }[];
    expect(memories.map((m) => m.type)).toEqual(["fact", "preference", "profile", "event", "tool", "skill"]);
    const text = body.text as string;
    for (const heading of [
      "Facts:",
      "Preferences:",
      "Profile:\n- Home: Lives in Lisbon",
      "Events:",
      "Tool memories:",
      "Skills:",
    ]) {
      expect(text).toContain(heading);
    }
  });

  it.each([
    [{ query: "x" }, "user_id is required"],
    [{ user_id: "u-1" }, "query is required"],
    [{ user_id: "u-1", query: "" }, "query is required"],
    [{ user_id: "u-1", query: "x", top_k: 0 }, "top_k must be between 1 and 50"],
    [{ user_id: "u-1", query: "x", top_k: 51 }, "top_k must be between 1 and 50"],
    [{ user_id: "u-1", query: "x", top_k: "many" }, "top_k must be a whole number"],
    [{ user_id: ["a"], query: "x" }, "user_id must be a string"],
    [{ user_id: "u-1", query: 42 }, undefined],
  ])("validates %j before calling MemOS", async (body, message) => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await postJson("/v1/search", body);
    if (message === undefined) {
      // A number is a fine query once coerced to text.
      expect(response.status).toBe(200);
      return;
    }
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "invalid_request", message } });
    expect(upstream).toHaveLength(0);
  });

  it("answers 405 for GET", async () => {
    const response = await call("/v1/search", { headers: authed() });
    expect(response.status).toBe(405);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "method_not_allowed" } });
  });
});
