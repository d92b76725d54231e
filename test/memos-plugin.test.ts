/**
 * Issue 9: memos-edge as a drop-in MemOS endpoint. The official MemOS Dify
 * plugin (0.0.3, 0.0.4) and MemOS API clients set their base URL to
 * https://<worker>/api/openmem/v1 and their API key to a memos-edge caller
 * token. These tests replay what the plugin really puts on the wire
 * (tools/memos_add.py and tools/memos_search.py in whipser030/dify-plugin-memos):
 *   - `os.path.join(memos_url, "add/message")`, so a typed trailing slash or a
 *     doubled one survives into the URL;
 *   - `Authorization: <the key exactly as typed>` (`Token x`, `Bearer x`, `x`);
 *   - `requests.post(json=...)`: Python `json.dumps` with `", "`/`": "` and
 *     non-ASCII as `\uXXXX`;
 *   - a fresh `chat_time` (`datetime.now(timezone.utc).isoformat()`, e.g.
 *     `2026-11-26T10:00:00.123456+00:00`) on every call, retries included.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  CLOUD,
  LOCAL,
  MEMOS_BASE,
  MEMOS_KEY,
  ORIGIN,
  TOKEN,
  call,
  dedupeKeys,
  json,
  memosOk,
  mockMemos,
  pythonJson,
  searchData,
  sleep,
  type EnvOverrides,
} from "./helpers";
import { FakeMemosServer, SERVER, SERVER_URL } from "./memos-server-fake";

const PREFIX = "/api/openmem/v1";

// ---------------------------------------------------------------------------
// What the plugin sends
// ---------------------------------------------------------------------------

/** `os.path.join(memos_url, path)`: adds a slash only when the URL does not end with one. */
function pluginUrl(memosUrl: string, path: "add/message" | "search/memory"): string {
  return memosUrl.endsWith("/") ? `${memosUrl}${path}` : `${memosUrl}/${path}`;
}

/** `datetime.now(timezone.utc).isoformat()` at a given second of a fixed minute. */
function chatTime(second: number, micros = 123456): string {
  return `2026-11-26T10:00:${String(second).padStart(2, "0")}.${String(micros).padStart(6, "0")}+00:00`;
}

interface PluginMessage {
  role: string;
  content: string;
  chat_time?: string;
  [field: string]: unknown;
}

/**
 * Plugin 0.0.3's add body: `messages` as typed by the user is parsed as a JSON
 * list, or else becomes one user message; if any message lacks `chat_time`,
 * every message gets this call's time (`{**item, "chat_time": iso_date}`).
 */
function addBodyV003(userId: string, conversationId: string, typed: string, time: string) {
  let messages: PluginMessage[];
  try {
    const parsed: unknown = JSON.parse(typed);
    if (!Array.isArray(parsed)) throw new Error("Not a list");
    messages = parsed as PluginMessage[];
  } catch {
    messages = [{ role: "user", content: typed }];
  }
  if (messages.some((message) => !("chat_time" in message))) {
    messages = messages.map((message) => ({ ...message, chat_time: time }));
  }
  return { user_id: userId, conversation_id: conversationId, source: "Dify", messages };
}

/** Plugin 0.0.4's add body: one user and one assistant message from `user_messages` and `ai_messages`. */
function addBodyV004(userId: string, conversationId: string, userMessages: string, aiMessages: string, time: string) {
  return {
    user_id: userId,
    conversation_id: conversationId,
    source: "Dify",
    messages: [
      { role: "user", content: userMessages, chat_time: time },
      { role: "assistant", content: aiMessages, chat_time: time },
    ],
  };
}

/** The plugin's search body (`memory_limit_number` defaults to 6). */
function searchBody(userId: string, query: string, memoryLimitNumber = 6) {
  return { user_id: userId, query, memory_limit_number: memoryLimitNumber, source: "Dify" };
}

interface PluginCall {
  /** The whole Authorization value, as the user typed the API key; null sends none. */
  authorization?: string | null;
  headers?: Record<string, string>;
  overrides?: EnvOverrides;
}

/** One `requests.post(url, json=body, headers={"Authorization": key})` from the plugin to the Worker. */
function pluginPost(path: string, body: unknown, options: PluginCall = {}): Promise<Response> {
  const { authorization = `Token ${TOKEN}`, headers = {}, overrides = CLOUD } = options;
  return call(
    path,
    {
      method: "POST",
      headers: {
        "User-Agent": "python-requests/2.32.3",
        Accept: "*/*",
        "Content-Type": "application/json",
        ...(authorization === null ? {} : { Authorization: authorization }),
        ...headers,
      },
      body: pythonJson(body),
    },
    overrides,
  );
}

const ADD = `${PREFIX}/add/message`;
const SEARCH = `${PREFIX}/search/memory`;

// ---------------------------------------------------------------------------
// What comes back
// ---------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** A MemOS-shaped failure: `{code: <non-zero number>, message: <string>, data: null}` and nothing else. */
async function expectMemosError(response: Response, status: number): Promise<Json> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = await json(response);
  expect(Object.keys(body).sort()).toEqual(["code", "data", "message"]);
  expect(typeof body.code).toBe("number");
  expect(body.code).not.toBe(0);
  expect(typeof body.message).toBe("string");
  expect(body.message).not.toBe("");
  expect(body.data).toBeNull();
  return body;
}

/** The example app's code node: `int(res["code"]) == 0 and res["data"]`, then each `memory_value`. */
function exampleAppMemories(res: Json): string[] {
  const data = res.data as { memory_detail_list: { memory_value: string }[] } | null;
  const ok = Number.parseInt(String(res.code), 10) === 0 && data !== null && Object.keys(data).length > 0;
  if (!ok) throw new Error(`the example app would find no memories in ${JSON.stringify(res)}`);
  return data.memory_detail_list.map((item) => item.memory_value);
}

/** MemOS accepting every add, with a new task id each time so a second upstream add shows. */
const acceptEachAdd = (_request: Request, index: number) =>
  memosOk({ success: true, task_id: `task-${index + 1}`, status: "running" });

/** A MemOS search answer carrying fields memos-edge does not know, at every level. */
function richSearchData() {
  const base = searchData();
  const [memory] = base.memory_detail_list;
  return {
    ...base,
    memory_detail_list: [
      {
        ...memory,
        memory_key: "Summer trip to Guangzhou",
        memory_value: "The user plans to visit Guangzhou this summer and chose 7 Days Inn.",
        update_time: 1766494806625,
        status: "activated",
        confidence: 0.9,
        tags: ["travel", "Guangzhou"],
        ref_id: "[a1b2]",
        future_item_field: { nested: [1, 2] },
      },
    ],
    preference_note: "Preferences are inferred.",
    skill_detail_list: [],
    future_list: [{ anything: true }],
    total: 2,
  };
}

// ---------------------------------------------------------------------------

/** The plugin's add bodies (0.0.3, 0.0.4) and a MemOS client's, each run against every backend. */
const PLUGIN_ADDS = ((time: string): [string, Json][] => [
  [
    "0.0.3, messages typed as a JSON list",
    addBodyV003(
      "dify-user-42",
      "4012345678901",
      '[{"role": "user", "content": "I\'m going to Lisbon in May."}, {"role": "assistant", "content": "Great, I\'ll remember that."}]',
      time,
    ),
  ],
  [
    "0.0.3, messages typed as plain text",
    addBodyV003("dify-user-42", "4012345678901", "我最喜欢的水果是芒果 🥭", time),
  ],
  [
    "0.0.4, user_messages and ai_messages",
    addBodyV004("dify-user-42", "conv-0610", "I'll choose 7 Days Inn.", "Good choice — noted.", time),
  ],
  [
    "a MemOS client with optional fields",
    {
      ...addBodyV004("dify-user-42", "conv-0610", "Book the window seat.", "Done.", time),
      agent_id: "travel-agent",
      tags: ["travel", "seats"],
      async_mode: false,
      info: { ticket: "T-17", priority: 2, labels: ["vip"] },
      allow_public: false,
    },
  ],
])(chatTime(0));

describe("MemOS drop-in: the plugin's add reaches MemOS untouched", () => {
  const time = chatTime(0);
  it.each(PLUGIN_ADDS)("%s", async (_name, sentByPlugin) => {
    const upstream = mockMemos(acceptEachAdd);
    const response = await pluginPost(ADD, sentByPlugin);

    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      code: 0,
      message: "ok",
      data: { success: true, task_id: "task-1", status: "running" },
    });

    expect(upstream).toHaveLength(1);
    const [sent] = upstream;
    expect(sent?.url).toBe(`${MEMOS_BASE}/add/message`);
    expect(sent?.method).toBe("POST");
    expect(sent?.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    expect(sent?.headers.get("X-API-Key")).toBeNull();
    // Every field the plugin sent, as it sent it: source "Dify", its chat_time, its extras.
    expect(sent?.body).toEqual(sentByPlugin);
  });

  it("returns MemOS's add data unchanged, fields memos-edge does not know included", async () => {
    const data = {
      success: true,
      task_id: "task-sync-1",
      status: "completed",
      memory_views: [{ view: "detail_factual", count: 2 }],
      future_field: "kept",
    };
    mockMemos(() => memosOk(data));
    const response = await pluginPost(ADD, { ...addBodyV004("u-1", "c-1", "hi", "hello", time), async_mode: false });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ code: 0, message: "ok", data });
  });

  it.each([
    [
      "a JSON string of the list",
      '[{"role": "user", "content": "I live in Porto."}]',
      [{ role: "user", content: "I live in Porto." }],
    ],
    ["plain text", "I live in Porto.", [{ role: "user", content: "I live in Porto." }]],
  ])("accepts messages sent on the wire as %s and gives MemOS a list", async (_name, messages, expected) => {
    const upstream = mockMemos(acceptEachAdd);
    const response = await pluginPost(ADD, { user_id: "u-1", conversation_id: "c-1", source: "Dify", messages });
    expect(response.status).toBe(200);
    const sent = upstream[0]?.body as { messages: PluginMessage[]; source: string };
    expect(sent.source).toBe("Dify");
    expect(sent.messages).toEqual(expected.map((message) => ({ ...message, chat_time: expect.any(String) })));
  });

  it("never forwards the caller's token to MemOS", async () => {
    const upstream = mockMemos(acceptEachAdd);
    await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", time), { authorization: `Bearer ${TOKEN}` });
    const sent = upstream[0];
    expect(sent).toBeDefined();
    for (const [name, value] of sent?.headers ?? []) expect(`${name}: ${value}`).not.toContain(TOKEN);
    expect(JSON.stringify(sent?.body)).not.toContain(TOKEN);
  });
});

describe("MemOS drop-in on the embedded store", () => {
  it("adds the plugin's messages and the plugin's search finds them as the example app reads them", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const added = await pluginPost(
      ADD,
      addBodyV003(
        "dify-user-42",
        "4012345678901",
        '[{"role": "user", "content": "My favourite fruit is mango."}, {"role": "assistant", "content": "Mango it is!"}]',
        chatTime(1),
      ),
      { overrides: LOCAL },
    );
    expect(added.status).toBe(200);
    const addAnswer = await json(added);
    expect(addAnswer).toMatchObject({ code: 0, message: "ok", data: { success: true } });
    expect(typeof (addAnswer.data as Json).task_id).toBe("string");

    const found = await pluginPost(SEARCH, searchBody("dify-user-42", "Which fruit do I like?"), { overrides: LOCAL });
    expect(found.status).toBe(200);
    const res = await json(found);
    expect(res).toMatchObject({ code: 0, message: "ok" });
    expect(exampleAppMemories(res)).toContain("My favourite fruit is mango.");

    const data = res.data as { memory_detail_list: Json[]; preference_detail_list: unknown };
    expect(data.preference_detail_list).toEqual([]);
    expect(data.memory_detail_list.length).toBeGreaterThan(0);
    for (const item of data.memory_detail_list) {
      expect(item).toEqual(
        expect.objectContaining({
          id: expect.any(String),
          memory_key: expect.any(String),
          memory_value: expect.any(String),
          memory_type: expect.any(String),
          create_time: expect.any(Number),
          conversation_id: "4012345678901",
          relativity: expect.any(Number),
        }),
      );
      expect(item.create_time).toBeGreaterThan(Date.UTC(2020, 0, 1)); // epoch milliseconds, not seconds
      expect(item.relativity).toBeGreaterThanOrEqual(0);
      expect(item.relativity).toBeLessThanOrEqual(1);
    }
    expect(upstream).toHaveLength(0);
  });

  it("stores 0.0.4's two messages sent with \\u escapes and finds them by a Chinese word", async () => {
    const sent = addBodyV004("用户-7", "conv-cn", "我最喜欢的水果是芒果", "好的，我记住了。", chatTime(2));
    const added = await pluginPost(ADD, sent, { overrides: LOCAL });
    expect(added.status).toBe(200);
    expect(await json(added)).toMatchObject({ code: 0, message: "ok", data: { success: true } });

    const res = await json(await pluginPost(SEARCH, searchBody("用户-7", "芒果"), { overrides: LOCAL }));
    expect(exampleAppMemories(res)).toEqual(["我最喜欢的水果是芒果"]);
  });

  it("returns at most memory_limit_number memories", async () => {
    const typed = JSON.stringify(
      Array.from({ length: 8 }, (_, index) => ({ role: "user", content: `Trip number ${index + 1} went to Lisbon.` })),
    );
    expect((await pluginPost(ADD, addBodyV003("u-1", "c-1", typed, chatTime(3)), { overrides: LOCAL })).status).toBe(
      200,
    );
    const res = await json(await pluginPost(SEARCH, searchBody("u-1", "Lisbon trip", 3), { overrides: LOCAL }));
    expect(exampleAppMemories(res)).toHaveLength(3);
  });

  it("keeps each user's memories to that user", async () => {
    await pluginPost(ADD, addBodyV004("alice", "c-a", "My favourite fruit is mango.", "Noted.", chatTime(3)), {
      overrides: LOCAL,
    });
    const res = await json(await pluginPost(SEARCH, searchBody("bob", "favourite fruit mango"), { overrides: LOCAL }));
    expect(res).toMatchObject({ code: 0, data: { memory_detail_list: [], preference_detail_list: [] } });
  });
});

describe("MemOS drop-in on the self-hosted MemOS server (issue 20)", () => {
  const SERVER_ADD = `${SERVER_URL}/product/add`;

  it.each(PLUGIN_ADDS)("%s: reaches /product/add mapped, answers MemOS's envelope", async (_name, sentByPlugin) => {
    const server = new FakeMemosServer();
    const upstream = mockMemos(server.handle);
    const response = await pluginPost(ADD, sentByPlugin, { overrides: SERVER });

    expect(response.status).toBe(200);
    const answer = await json(response);
    expect(answer).toMatchObject({ code: 0, message: "Memory added successfully" });
    // What the official client's pydantic model needs: success, task_id, status.
    expect(answer.data).toMatchObject({ success: true, task_id: expect.any(String), status: expect.any(String) });

    expect(upstream.map((sent) => `${sent.method} ${sent.url}`)).toEqual([`POST ${SERVER_ADD}`]);
    const plugin = sentByPlugin as Json & { messages: PluginMessage[] };
    const sent = upstream[0]?.body as Json;
    expect(sent).toMatchObject({
      user_id: plugin.user_id,
      writable_cube_ids: [plugin.user_id],
      session_id: plugin.conversation_id,
      // The plugin's own messages, its chat_time included.
      messages: plugin.messages,
      async_mode: plugin.async_mode === false ? "sync" : "async",
      task_id: (answer.data as Json).task_id,
    });
    if (plugin.tags !== undefined) expect(sent.custom_tags).toEqual(plugin.tags);
    if (plugin.agent_id !== undefined)
      expect(sent.info).toEqual({ ...(plugin.info as Json), agent_id: plugin.agent_id });
    // MemOS cloud's own fields the server has no use for are not forwarded.
    expect(Object.keys(sent)).not.toContain("source");
    expect(Object.keys(sent)).not.toContain("allow_public");
    expect(upstream[0]?.headers.get("Authorization")).toBeNull();
  });

  it("the plugin's search finds the plugin's add, read as the example app reads it", async () => {
    const server = new FakeMemosServer();
    const upstream = mockMemos(server.handle);
    const added = await pluginPost(
      ADD,
      addBodyV003(
        "dify-user-42",
        "4012345678901",
        '[{"role": "user", "content": "My favourite fruit is mango."}, {"role": "assistant", "content": "Mango it is!"}]',
        chatTime(1),
      ),
      { overrides: SERVER },
    );
    expect(added.status).toBe(200);

    const sentByPlugin = {
      ...searchBody("dify-user-42", "Which fruit is my favourite?"),
      relativity: 0.3,
      filter: { and: [{ app_id: "dify" }] },
    };
    const found = await pluginPost(SEARCH, sentByPlugin, { overrides: SERVER });
    expect(found.status).toBe(200);
    const res = await json(found);
    expect(res).toMatchObject({ code: 0, message: "Search completed successfully" });
    expect(exampleAppMemories(res)).toEqual(["user: My favourite fruit is mango."]);
    const [item] = (res.data as { memory_detail_list: Json[] }).memory_detail_list;
    expect(item).toMatchObject({ conversation_id: "4012345678901", memory_type: "UserMemory", relativity: 0.83 });
    expect(item?.create_time).toBeGreaterThan(Date.UTC(2020, 0, 1));

    expect(upstream[1]?.url).toBe(`${SERVER_URL}/product/search`);
    expect(upstream[1]?.body).toMatchObject({
      query: "Which fruit is my favourite?",
      user_id: "dify-user-42",
      readable_cube_ids: ["dify-user-42"],
      top_k: 6,
      relativity: 0.3,
      filter: { and: [{ app_id: "dify" }] },
    });
  });

  it("answers the example app's retries from the first add: the server gets it once", async () => {
    const server = new FakeMemosServer();
    const upstream = mockMemos(server.handle);
    const turn = (time: string) => addBodyV004("u-1", "c-1", "I moved to Lisbon last spring.", "Lovely city!", time);
    const first = await json(await pluginPost(ADD, turn(chatTime(10, 1)), { overrides: SERVER }));
    for (const second of [11, 12, 13]) {
      const retry = await pluginPost(ADD, turn(chatTime(second)), { overrides: SERVER });
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      expect(await json(retry)).toEqual(first);
    }
    expect(upstream).toHaveLength(1);
  });
});

describe("MemOS drop-in: the plugin's search", () => {
  it("reaches MemOS search/memory untouched with the real key and returns MemOS's answer unchanged", async () => {
    const upstream = mockMemos(() => memosOk(richSearchData()));
    const sentByPlugin = {
      ...searchBody("dify-user-42", "Where should I stay in Guangzhou?", 6),
      relativity: 0.3,
      include_memory_view: ["detail_factual", "preference"],
      filter: { and: [{ tags: { contains: "travel" } }] },
    };
    const response = await pluginPost(SEARCH, sentByPlugin);

    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ code: 0, message: "ok", data: richSearchData() });

    expect(upstream).toHaveLength(1);
    expect(upstream[0]?.url).toBe(`${MEMOS_BASE}/search/memory`);
    expect(upstream[0]?.method).toBe("POST");
    expect(upstream[0]?.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    expect(upstream[0]?.body).toEqual(sentByPlugin);
  });

  it("lets the example app read MemOS's answer", async () => {
    mockMemos(() => memosOk(richSearchData()));
    const res = await json(await pluginPost(SEARCH, searchBody("dify-user-42", "hotel")));
    expect(exampleAppMemories(res)).toEqual(["The user plans to visit Guangzhou this summer and chose 7 Days Inn."]);
  });
});

describe("MemOS drop-in: the API key and URL as users type them", () => {
  it.each([
    ["Authorization: Token <token>", { authorization: `Token ${TOKEN}` }],
    ["Authorization: Bearer <token>", { authorization: `Bearer ${TOKEN}` }],
    ["Authorization: <bare token>", { authorization: TOKEN }],
    ["X-API-Key: <token>", { authorization: null, headers: { "X-API-Key": TOKEN } }],
    ["the second configured token", { authorization: "Token second-token" }],
  ])("accepts %s on add and search", async (_name, credential: PluginCall) => {
    const upstream = mockMemos((request, index) =>
      request.url.endsWith("/add/message") ? acceptEachAdd(request, index) : memosOk(richSearchData()),
    );
    const added = await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(4)), credential);
    expect(added.status).toBe(200);
    expect(await json(added)).toMatchObject({ code: 0 });
    const found = await pluginPost(SEARCH, searchBody("u-1", "hi"), credential);
    expect(found.status).toBe(200);
    expect(await json(found)).toMatchObject({ code: 0 });
    expect(upstream.map((sent) => sent.url)).toEqual([`${MEMOS_BASE}/add/message`, `${MEMOS_BASE}/search/memory`]);
  });

  it.each([
    ["without a trailing slash", `${PREFIX}`, `${PREFIX}/add/message`],
    ["with a trailing slash", `${PREFIX}/`, `${PREFIX}/add/message`],
    ["with a doubled trailing slash", `${PREFIX}//`, `${PREFIX}//add/message`],
  ])("routes a base URL typed %s", async (_name, memosUrl, expectedAddPath) => {
    const upstream = mockMemos((request, index) =>
      request.url.endsWith("/add/message") ? acceptEachAdd(request, index) : memosOk(richSearchData()),
    );
    expect(pluginUrl(memosUrl, "add/message")).toBe(expectedAddPath);

    const added = await pluginPost(
      pluginUrl(memosUrl, "add/message"),
      addBodyV004("u-1", "c-1", "hi", "hello", chatTime(5)),
    );
    expect(added.status).toBe(200);
    expect(await json(added)).toMatchObject({ code: 0, data: { task_id: "task-1" } });
    const found = await pluginPost(pluginUrl(memosUrl, "search/memory"), searchBody("u-1", "hi"));
    expect(found.status).toBe(200);
    expect(await json(found)).toEqual({ code: 0, message: "ok", data: richSearchData() });

    // MemOS always gets its clean URL.
    expect(upstream.map((sent) => sent.url)).toEqual([`${MEMOS_BASE}/add/message`, `${MEMOS_BASE}/search/memory`]);
  });
});

describe("MemOS drop-in: retried adds reach MemOS once", () => {
  const turn = (time: string) => addBodyV004("u-1", "c-1", "I moved to Lisbon last spring.", "Lovely city!", time);

  it("answers the example app's 3 retries (fresh chat_time each) from the first add", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const first = await pluginPost(ADD, turn(chatTime(10, 1)));
    expect(first.status).toBe(200);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const firstBody = await json(first);
    expect(firstBody).toEqual({
      code: 0,
      message: "ok",
      data: { success: true, task_id: "task-1", status: "running" },
    });

    for (const [second, micros] of [
      [10, 654321],
      [11, 7],
      [13, 999999],
    ] as const) {
      const retry = await pluginPost(ADD, turn(chatTime(second, micros)));
      expect(retry.status).toBe(200);
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      expect(await json(retry)).toEqual(firstBody);
    }
    expect(upstream).toHaveLength(1);
    expect((upstream[0]?.body as { messages: PluginMessage[] }).messages.map((m) => m.chat_time)).toEqual([
      chatTime(10, 1),
      chatTime(10, 1),
    ]);
  });

  it("replays by Idempotency-Key: same key and same content reach MemOS once", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const headers = { "Idempotency-Key": "run-7f3a" };
    const first = await json(await pluginPost(ADD, turn(chatTime(20)), { headers }));
    const retry = await pluginPost(ADD, turn(chatTime(21)), { headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(retry)).toEqual(first);
    expect(upstream).toHaveLength(1);
  });

  it("lets two different Idempotency-Keys with the same content make two adds", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const first = await pluginPost(ADD, turn(chatTime(30)), { headers: { "Idempotency-Key": "run-1" } });
    const second = await pluginPost(ADD, turn(chatTime(30)), { headers: { "Idempotency-Key": "run-2" } });
    expect(await json(first)).toMatchObject({ data: { task_id: "task-1" } });
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await json(second)).toMatchObject({ code: 0, data: { task_id: "task-2" } });
    expect(upstream).toHaveLength(2);
  });

  it("joins a retry that arrives while the first add is still running (the plugin gives up after 5 s)", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const firstReachedMemos = new Promise<void>((resolve) => (reached = resolve));
    const upstream = mockMemos(async (request, index) => {
      reached();
      await released;
      return acceptEachAdd(request, index);
    });

    const first = pluginPost(ADD, turn(chatTime(15, 1)));
    await firstReachedMemos;
    const retry = pluginPost(ADD, turn(chatTime(20, 2)));
    // Give the retry time to reach the dedupe step while MemOS still holds the first add.
    // Whatever the interleaving, the assertions below must hold.
    await sleep(50);
    release();

    const [firstAnswer, retryAnswer] = await Promise.all([first, retry]);
    expect(firstAnswer.status).toBe(200);
    expect(retryAnswer.status).toBe(200);
    expect(retryAnswer.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(retryAnswer)).toEqual(await json(firstAnswer));
    expect(upstream).toHaveLength(1);
  });

  it("refuses an Idempotency-Key reused with other content: 422 MemOS-shaped, no second add", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const headers = { "Idempotency-Key": "run-9" };
    expect((await pluginPost(ADD, turn(chatTime(25)), { headers })).status).toBe(200);
    const reused = await pluginPost(ADD, addBodyV004("u-1", "c-1", "Something else.", "Ok.", chatTime(26)), {
      headers,
    });
    await expectMemosError(reused, 422);
    expect(upstream).toHaveLength(1);
  });

  it("does not dedupe different content in the same conversation", async () => {
    const upstream = mockMemos(acceptEachAdd);
    await pluginPost(ADD, addBodyV004("u-1", "c-1", "I like tea.", "Noted.", chatTime(40)));
    const other = await pluginPost(ADD, addBodyV004("u-1", "c-1", "I like coffee.", "Noted.", chatTime(41)));
    expect(await json(other)).toMatchObject({ data: { task_id: "task-2" } });
    expect(upstream).toHaveLength(2);
  });
});

describe("MemOS drop-in: refused callers", () => {
  it.each([
    ["no credential", { authorization: null }],
    ["a wrong Token", { authorization: "Token wrong-token" }],
    ["a wrong Bearer", { authorization: "Bearer wrong-token" }],
    ["a wrong bare key", { authorization: "wrong-token" }],
    ["a wrong X-API-Key", { authorization: null, headers: { "X-API-Key": "wrong-token" } }],
    ["the MemOS key itself (a user pasting their MemOS key)", { authorization: `Token ${MEMOS_KEY}` }],
    ["an Authorization value in no readable form", { authorization: `Token ${TOKEN} extra` }],
  ])("answers 401 MemOS-shaped to %s, calling nothing", async (_name, credential: PluginCall) => {
    const upstream = mockMemos(acceptEachAdd);
    for (const [path, body] of [
      [ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(50))],
      [SEARCH, searchBody("u-1", "hi")],
    ] as const) {
      const response = await pluginPost(path, body, credential);
      const answer = await expectMemosError(response, 401);
      expect(JSON.stringify(answer)).not.toContain(MEMOS_KEY);
      expect(JSON.stringify(answer)).not.toContain("wrong-token");
    }
    expect(upstream).toHaveLength(0);
    expect(await dedupeKeys()).toEqual([]);
  });
});

describe("MemOS drop-in: nothing else under the prefix is served (no open proxy)", () => {
  it.each([
    // MemOS calls memos-edge does not serve (memory management is served: test/memory-management-memos.test.ts).
    ["POST", `${PREFIX}/chat`],
    ["POST", `${PREFIX}/add/knowledgebase-file`],
    ["POST", `${PREFIX}/delete/knowledgebase`],
    ["POST", `${PREFIX}/extract/memory`],
    ["POST", `${PREFIX}/update/memories`],
    ["POST", `${PREFIX}/add/message/extra`],
    ["POST", `${PREFIX}/add%2Fmessage`],
    ["POST", `${PREFIX}/..%2F..%2Fevil`],
    ["POST", `${PREFIX}/`],
    ["POST", `/api/openmem/v2/add/message`],
  ])("%s %s with a valid token → 404 MemOS-shaped, no upstream call", async (method, path) => {
    const upstream = mockMemos(acceptEachAdd);
    const response = await call(path, {
      method,
      headers: { Authorization: `Token ${TOKEN}`, "Content-Type": "application/json" },
      ...(method === "POST" ? { body: pythonJson({ user_id: "u-1", memory_ids: ["mem-1"] }) } : {}),
    });
    await expectMemosError(response, 404);
    expect(upstream).toHaveLength(0);
  });

  it.each([
    // Dot segments are resolved by every URL parser (WHATWG, urllib3) before the Worker sees the path.
    [`${PREFIX}/../../evil`, "/api/evil"],
    [`${PREFIX}/%2e%2e/%2e%2e/evil`, "/api/evil"],
    [`${PREFIX}/../../../evil`, "/evil"],
  ])("serves nothing for %s (it arrives as %s)", async (typed, arrives) => {
    const upstream = mockMemos(acceptEachAdd);
    expect(new URL(`${ORIGIN}${typed}`).pathname).toBe(arrives);
    const response = await call(typed, {
      method: "POST",
      headers: { Authorization: `Token ${TOKEN}`, "Content-Type": "application/json" },
      body: pythonJson({ user_id: "u-1" }),
    });
    expect(response.status).toBe(404);
    // Outside /api/openmem/, so the Worker's default error shape: the Worker cannot know the typed path.
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(upstream).toHaveLength(0);
  });

  it("answers 404 MemOS-shaped for /api/openmem/v1/../evil (it arrives as /api/openmem/evil)", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const response = await call(`${PREFIX}/../evil`, {
      method: "POST",
      headers: { Authorization: `Token ${TOKEN}`, "Content-Type": "application/json" },
      body: pythonJson({ user_id: "u-1" }),
    });
    await expectMemosError(response, 404);
    expect(upstream).toHaveLength(0);
  });

  it("answers 405 MemOS-shaped, with Allow, to a GET of add/message", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const response = await call(ADD, { method: "GET", headers: { Authorization: `Token ${TOKEN}` } });
    await expectMemosError(response, 405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(upstream).toHaveLength(0);
  });
});

describe("MemOS drop-in: MemOS failures", () => {
  const failures = [
    [
      "HTTP 401",
      502,
      () =>
        new Response(JSON.stringify({ code: 40132, message: `invalid key Token ${MEMOS_KEY}`, data: null }), {
          status: 401,
        }),
    ],
    ["HTTP 500", 502, () => new Response("Internal Server Error", { status: 500 })],
    ["HTTP 429", 429, () => new Response("slow down", { status: 429, headers: { "Retry-After": "7" } })],
  ] as const;

  it.each(failures)("add: MemOS %s → %i MemOS-shaped, and no dedupe record", async (_name, status, reply) => {
    const upstream = mockMemos(reply);
    const response = await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(60)));
    await expectMemosError(response, status);
    if (status === 429) expect(response.headers.get("Retry-After")).toBe("7");
    expect(upstream).toHaveLength(1);
    expect((await env.DEDUPE.list()).keys).toEqual([]);
  });

  it.each(failures)("search: MemOS %s → %i MemOS-shaped", async (_name, status, reply) => {
    mockMemos(reply);
    const response = await pluginPost(SEARCH, searchBody("u-1", "hi"));
    await expectMemosError(response, status);
    if (status === 429) expect(response.headers.get("Retry-After")).toBe("7");
  });

  it("lets the plugin's retry through after a failed add", async () => {
    const upstream = mockMemos((request, index) =>
      index === 0 ? new Response("Internal Server Error", { status: 500 }) : acceptEachAdd(request, index),
    );
    await expectMemosError(await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(61))), 502);
    const retry = await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(62)));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await json(retry)).toMatchObject({ code: 0, data: { task_id: "task-2" } });
    expect(upstream).toHaveLength(2);
  });
});

describe("MemOS drop-in: the MemOS key never reaches a caller", () => {
  const echoes = `Token ${MEMOS_KEY}`;
  it.each([
    ["an accepted add", ADD, () => memosOk({ success: true, task_id: "task-1", status: "running" })],
    ["a search", SEARCH, () => memosOk(richSearchData())],
    [
      "MemOS HTTP 401 echoing the key",
      ADD,
      () => Response.json({ code: 40132, message: `bad key ${echoes}` }, { status: 401 }),
    ],
    [
      "code 40132 with HTTP 200 echoing the key",
      SEARCH,
      () => Response.json({ code: 40132, message: `bad key ${MEMOS_KEY}`, data: null }),
    ],
    [
      "code 40000 echoing the key",
      ADD,
      () => Response.json({ code: 40000, message: `messages invalid (${echoes})`, data: null }),
    ],
    [
      "code 40010 echoing the key",
      ADD,
      () => Response.json({ code: 40010, message: `user_id too long, key=${MEMOS_KEY}`, data: null }),
    ],
    [
      "code 50004 echoing the key",
      SEARCH,
      () => Response.json({ code: 50004, message: `unavailable for ${MEMOS_KEY}`, data: null }),
    ],
    [
      "code 40300 echoing the key",
      ADD,
      () => Response.json({ code: 40300, message: `rate limited ${MEMOS_KEY}`, data: null }),
    ],
    [
      "HTTP 500 with a JSON body echoing the key",
      SEARCH,
      () => Response.json({ code: 50000, message: echoes }, { status: 500 }),
    ],
    ["an HTML page echoing the key", ADD, () => new Response(`<html>${echoes}</html>`, { status: 200 })],
  ])("not in the answer to %s", async (_name, path, reply) => {
    mockMemos(reply);
    const body = path === ADD ? addBodyV004("u-1", "c-1", "hi", "hello", chatTime(70)) : searchBody("u-1", "hi");
    const response = await pluginPost(path, body);
    const text = await response.text();
    expect(text).not.toContain(MEMOS_KEY);
    for (const [name, value] of response.headers) expect(`${name}: ${value}`).not.toContain(MEMOS_KEY);
    if (response.status !== 200)
      await expectMemosError(
        new Response(text, { status: response.status, headers: response.headers }),
        response.status,
      );
  });

  it("not in a replayed add", async () => {
    mockMemos(acceptEachAdd);
    await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(71)));
    const replay = await pluginPost(ADD, addBodyV004("u-1", "c-1", "hi", "hello", chatTime(72)));
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await replay.text()).not.toContain(MEMOS_KEY);
    for (const [name, value] of replay.headers) expect(`${name}: ${value}`).not.toContain(MEMOS_KEY);
    for (const key of await dedupeKeys()) expect(await env.DEDUPE.get(key)).not.toContain(MEMOS_KEY);
  });
});

describe("MemOS drop-in: input checked before MemOS is called", () => {
  const longId = "u".repeat(101);
  it.each([
    [
      "add: user_id of 101 characters",
      ADD,
      { ...addBodyV004("u-1", "c-1", "hi", "hello", chatTime(80)), user_id: longId },
      /user_id/,
    ],
    [
      "add: conversation_id of 101 characters",
      ADD,
      addBodyV004("u-1", longId, "hi", "hello", chatTime(80)),
      /conversation_id/,
    ],
    ["add: no messages", ADD, { user_id: "u-1", conversation_id: "c-1", source: "Dify" }, /messages/],
    [
      "add: empty messages list",
      ADD,
      { user_id: "u-1", conversation_id: "c-1", source: "Dify", messages: [] },
      /messages/,
    ],
    ["add: empty user_id", ADD, { ...addBodyV004("u-1", "c-1", "hi", "hello", chatTime(80)), user_id: "" }, /user_id/],
    [
      "add: blank user_id",
      ADD,
      { ...addBodyV004("u-1", "c-1", "hi", "hello", chatTime(80)), user_id: "   " },
      /user_id/,
    ],
    [
      "add: no user_id",
      ADD,
      { conversation_id: "c-1", source: "Dify", messages: [{ role: "user", content: "hi" }] },
      /user_id/,
    ],
    ["search: no query", SEARCH, { user_id: "u-1", memory_limit_number: 6, source: "Dify" }, /query/],
    ["search: user_id of 101 characters", SEARCH, searchBody(longId, "hi"), /user_id/],
  ])("%s → 400 MemOS-shaped, no upstream call", async (_name, path, body, names) => {
    const upstream = mockMemos(acceptEachAdd);
    const answer = await expectMemosError(await pluginPost(path, body), 400);
    expect(answer.message).toMatch(names);
    expect(upstream).toHaveLength(0);
  });

  it("answers 400 MemOS-shaped to a body that is not JSON, calling nothing", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const response = await call(ADD, {
      method: "POST",
      headers: { Authorization: `Token ${TOKEN}`, "Content-Type": "application/json" },
      body: '{"user_id": "u-1", "messages": "unterminated',
    });
    await expectMemosError(response, 400);
    expect(upstream).toHaveLength(0);
  });

  it("accepts a user_id of exactly 100 characters", async () => {
    const upstream = mockMemos(acceptEachAdd);
    const body = { ...addBodyV004("u-1", "c-1", "hi", "hello", chatTime(81)), user_id: "u".repeat(100) };
    expect((await pluginPost(ADD, body)).status).toBe(200);
    expect(upstream[0]?.body).toEqual(body);
  });
});

describe("MemOS drop-in: whose key is wrong", () => {
  it("answers MemOS refusing the Worker's key with 502 and code 50200, not MemOS's 40132 (which would blame the caller's token)", async () => {
    mockMemos(() => Response.json({ code: 40132, message: "invalid api key", data: null }));
    const response = await call("/api/openmem/v1/search/memory", {
      method: "POST",
      headers: { Authorization: "Token test-token", "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: "u", query: "q" }),
    });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: 50200, data: null });
  });
});

describe("MemOS drop-in: MemOS's own answers pass through as MemOS gave them", () => {
  const plugin = (path: string, body: unknown) =>
    call(path, {
      method: "POST",
      headers: { Authorization: "Token test-token", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("an HTTP 200 envelope with a MemOS error code reaches the plugin as HTTP 200 with that envelope (the plugin's raise_for_status passes, its code check decides)", async () => {
    mockMemos(() => Response.json({ code: 40010, message: `user_id too long (key ${MEMOS_KEY})`, data: null }));
    const response = await plugin("/api/openmem/v1/add/message", {
      user_id: "u",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ code: 40010, message: "user_id too long (key [redacted])", data: null });
    expect(text).not.toContain(MEMOS_KEY);
    expect((await env.DEDUPE.list()).keys).toEqual([]);
  });

  it("a MemOS 5xx with its envelope keeps MemOS's status and envelope", async () => {
    mockMemos(() => Response.json({ code: 50004, message: "service unavailable", data: null }, { status: 503 }));
    const response = await plugin("/api/openmem/v1/search/memory", { user_id: "u", query: "q" });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ code: 50004, message: "service unavailable", data: null });
  });
});
