/** Every field the MemOS plugin and the MemOS cloud API take, through /v1 (issue 10). */
import { describe, expect, it } from "vitest";
import { LOCAL, MEMOS_KEY, addAccepted, authed, call, json, memosOk, mockMemos, postJson, searchData } from "./helpers";

type Sent = Record<string, unknown> & { messages: Record<string, unknown>[] };

function form(path: string, fields: Record<string, string>, overrides?: Record<string, unknown>) {
  return call(
    path,
    {
      method: "POST",
      headers: authed({ "Content-Type": "application/x-www-form-urlencoded" }),
      body: new URLSearchParams(fields).toString(),
    },
    overrides,
  );
}

describe("add: messages in every form the plugin accepts", () => {
  it.each([
    ["an array", [{ role: "user", content: "I love jazz" }], [["user", "I love jazz"]]],
    [
      "a JSON string of the array",
      JSON.stringify([
        { role: "user", content: "I love jazz" },
        { role: "assistant", content: "Nice" },
      ]),
      [
        ["user", "I love jazz"],
        ["assistant", "Nice"],
      ],
    ],
    ["plain text (one user message)", "I love jazz", [["user", "I love jazz"]]],
    ["text that starts with [ but is not JSON", "[draft] I love jazz", [["user", "[draft] I love jazz"]]],
  ])("messages as %s", async (_name, messages, expected) => {
    const upstream = mockMemos(() => addAccepted());
    expect((await postJson("/v1/add", { user_id: "u", messages })).status).toBe(200);
    expect((upstream[0]?.body as Sent).messages.map((m) => [m.role, m.content])).toEqual(expected);
  });

  it("the 0.0.4 pair user_messages + ai_messages", async () => {
    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", { user_id: "u", user_messages: "Book a table", ai_messages: "Booked for 8pm" });
    expect((upstream[0]?.body as Sent).messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Book a table"],
      ["assistant", "Booked for 8pm"],
    ]);
  });

  it('drops an empty message (the plugin sends an empty AI reply as "") instead of refusing the add', async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", {
      user_id: "u",
      messages: [
        { role: "user", content: "Remind me to call mum" },
        { role: "assistant", content: "" },
      ],
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ message_count: 1 });
    expect((upstream[0]?.body as Sent).messages.map((m) => m.role)).toEqual(["user"]);
  });

  it("keeps role_id and role_name for group chats, with user_id as a list", async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", {
      user_id: ["ann", "ben"],
      messages: [
        { role: "user", content: "Let's meet Friday", role_id: "ann", role_name: "Ann" },
        { role: "user", content: "Friday works", role_id: "ben", role_name: "Ben" },
      ],
    });
    expect(response.status).toBe(200);
    const sent = upstream[0]?.body as Sent;
    expect(sent.user_id).toEqual(["ann", "ben"]);
    expect(sent.messages[1]).toMatchObject({ role_id: "ben", role_name: "Ben" });
  });

  it("refuses more than 20 users in a group chat before calling MemOS", async () => {
    const upstream = mockMemos(() => addAccepted());
    const users = Array.from({ length: 21 }, (_, i) => `u${i}`);
    const response = await postJson("/v1/add", { user_id: users, user_message: "hi" });
    expect(response.status).toBe(400);
    expect(upstream).toHaveLength(0);
  });

  it("passes agent_id, app_id, tags, info, allow_public, async_mode, allow_memory_view and source to MemOS", async () => {
    const upstream = mockMemos(() => addAccepted());
    const fields = {
      agent_id: "agent-7",
      app_id: "app-3",
      tags: ["travel", "food"],
      info: { city: "Lisbon", visits: 2 },
      allow_public: false,
      async_mode: false,
      allow_memory_view: true,
      allow_knowledgebase_ids: ["kb1"],
      source: "my-n8n",
    };
    await postJson("/v1/add", { user_id: "u", user_message: "hi", ...fields });
    expect(upstream[0]?.body).toMatchObject(fields);
  });

  it("takes lists as comma-separated or JSON strings, objects as JSON strings and booleans as strings from a form body", async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await form("/v1/add", {
      user_id: '["ann","ben"]',
      user_message: "hi",
      tags: "travel, food",
      allow_knowledgebase_ids: '["kb1","kb2"]',
      info: '{"city":"Lisbon"}',
      async_mode: "False",
      allow_public: "true",
    });
    expect(response.status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({
      user_id: ["ann", "ben"],
      tags: ["travel", "food"],
      allow_knowledgebase_ids: ["kb1", "kb2"],
      info: { city: "Lisbon" },
      async_mode: false,
      allow_public: true,
    });
  });

  it("keeps MemOS's task_id and status in the answer", async () => {
    mockMemos(() => memosOk({ success: true, task_id: "t-99", status: "running" }));
    expect(await json(await postJson("/v1/add", { user_id: "u", user_message: "hi" }))).toMatchObject({
      task_id: "t-99",
      status: "running",
    });
  });

  it.each([
    ["user_id", { user_id: "x".repeat(101), user_message: "hi" }],
    ["conversation_id", { user_id: "u", conversation_id: "c".repeat(101), user_message: "hi" }],
    ["agent_id", { user_id: "u", agent_id: "a".repeat(101), user_message: "hi" }],
  ])("refuses a 101-character %s before any upstream call, naming the field", async (field, body) => {
    const upstream = mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", body);
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({
      error: { code: "invalid_request", field, message: `${field} must be at most 100 characters` },
    });
    expect(upstream).toHaveLength(0);
  });

  it("accepts exactly 100 characters", async () => {
    mockMemos(() => addAccepted());
    expect((await postJson("/v1/add", { user_id: "x".repeat(100), user_message: "hi" })).status).toBe(200);
  });

  it("refuses an add with no message", async () => {
    const upstream = mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", { user_id: "u", messages: [] });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({
      error: { message: "messages, user_message or assistant_message is required" },
    });
    expect(upstream).toHaveLength(0);
  });

  it("refuses a message with an unknown role", async () => {
    mockMemos(() => addAccepted());
    const response = await postJson("/v1/add", { user_id: "u", messages: [{ role: "bot", content: "x" }] });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { field: "messages.0.role" } });
  });
});

describe("search: MemOS filters and views", () => {
  it("sends agent_id, app_id and tags as MemOS filter conditions, merged with a caller filter", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    await postJson("/v1/search", {
      user_id: "u",
      query: "q",
      agent_id: "agent-7",
      app_id: "app-3",
      tags: "travel",
      filter: { and: [{ create_time: { gte: "2026-01-01" } }] },
    });
    expect(upstream[0]?.body).toMatchObject({
      filter: {
        and: [
          { create_time: { gte: "2026-01-01" } },
          { agent_id: "agent-7" },
          { app_id: "app-3" },
          { tags: { contains: "travel" } },
        ],
      },
    });
    expect(upstream[0]?.body).not.toHaveProperty("agent_id");
  });

  it("passes a caller filter through untouched when nothing is added to it", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const filter = { or: [{ tags: { contains: "a" } }, { tags: { contains: "b" } }] };
    await form("/v1/search", { user_id: "u", query: "q", filter: JSON.stringify(filter) });
    expect((upstream[0]?.body as { filter: unknown }).filter).toEqual(filter);
  });

  it("passes include_memory_view, include_preference, preference_limit_number and relativity", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    await form("/v1/search", {
      user_id: "u",
      query: "q",
      include_memory_view: "detail_factual,preference",
      include_preference: "false",
      preference_limit_number: "3",
      relativity: "0.6",
    });
    expect(upstream[0]?.body).toMatchObject({
      include_memory_view: ["detail_factual", "preference"],
      include_preference: false,
      preference_limit_number: 3,
      relativity: 0.6,
    });
  });

  it("clamps top_k above MemOS's 25 and says so in the answer", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = await json(await postJson("/v1/search", { user_id: "u", query: "q", top_k: 40 }));
    expect(upstream[0]?.body).toMatchObject({ memory_limit_number: 25 });
    expect(body.warnings).toEqual(["top_k 40 is above the backend's maximum of 25; 25 used"]);
  });

  it("refuses relativity outside 0–1", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    expect((await postJson("/v1/search", { user_id: "u", query: "q", relativity: 2 })).status).toBe(400);
    expect(upstream).toHaveLength(0);
  });
});

describe("MemOS error codes", () => {
  it.each([
    [40000, 400, "upstream_rejected"],
    [40010, 400, "upstream_rejected"],
    [40011, 400, "upstream_rejected"],
    [40132, 502, "upstream_auth"],
    [40300, 429, "upstream_rate_limited"],
    [50004, 502, "upstream_error"],
    [50005, 502, "upstream_error"],
    [50131, 502, "upstream_error"],
    [50143, 502, "upstream_error"],
    [50144, 502, "upstream_error"],
  ])("code %i → %i %s, key never leaked", async (code, status, errorCode) => {
    mockMemos(() => Response.json({ code, message: `failure with ${MEMOS_KEY}`, data: null }));
    const response = await postJson("/v1/add", { user_id: "u", user_message: "hi" });
    expect(response.status).toBe(status);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ ok: false, error: { code: errorCode } });
    expect(text).not.toContain(MEMOS_KEY);
  });
});

describe("the embedded store takes the same fields", () => {
  it("stores agent_id and tags and filters on them", async () => {
    const add = (body: Record<string, unknown>) => postJson("/v1/add", body, LOCAL);
    await add({ user_id: "u", agent_id: "chef", tags: "food", user_message: "Pasta needs salted water" });
    await add({ user_id: "u", agent_id: "coach", tags: "sport", user_message: "Pasta before a race gives energy" });
    const search = async (extra: Record<string, unknown>) =>
      (
        (await json(await postJson("/v1/search", { user_id: "u", query: "pasta", ...extra }, LOCAL))).memories as {
          content: string;
        }[]
      ).map((m) => m.content);
    expect(await search({})).toHaveLength(2);
    expect(await search({ agent_id: "chef" })).toEqual(["Pasta needs salted water"]);
    expect(await search({ tags: "sport" })).toEqual(["Pasta before a race gives energy"]);
    expect(await search({ filter: { and: [{ agent_id: "coach" }] } })).toEqual(["Pasta before a race gives energy"]);
    expect(await search({ app_id: "none" })).toEqual([]);
  });

  it("accepts MemOS-only fields it cannot serve without failing", async () => {
    const response = await postJson(
      "/v1/add",
      { user_id: "u", user_message: "hi there", async_mode: true, allow_memory_view: true, info: { a: 1 } },
      LOCAL,
    );
    expect(response.status).toBe(200);
    const search = await postJson(
      "/v1/search",
      { user_id: "u", query: "hi there", include_memory_view: "profile", top_k: 40 },
      LOCAL,
    );
    expect(search.status).toBe(200);
    expect(await json(search)).not.toHaveProperty("warnings");
  });
});
