/**
 * Issue 20: the self-hosted, open-source MemOS server as a third backend.
 * Every surface goes through the real Worker to a fake of the server at the
 * fetch boundary (test/memos-server-fake.ts), which validates requests like
 * the server's pydantic models: each test asserts the `/product/*` path and
 * mapped body that reached it, and the answer mapped back into MemOS cloud's
 * vocabulary (`code: 0`, `memory_detail_list`) or memos-edge's `memories`.
 */
import { describe, expect, it } from "vitest";
import { MEMOS_KEY, TOKEN, call, json, mockMemos, postJson, type UpstreamCall } from "./helpers";
import { FakeMemosServer, SERVER, SERVER_KEY, SERVER_URL } from "./memos-server-fake";

type Json = Record<string, unknown>;

const PREFIX = "/api/openmem/v1";
/** The only requests the backend may make: its fixed `/product/*` routes. */
const SERVER_ROUTES = [
  /^POST \/product\/add$/,
  /^POST \/product\/search$/,
  /^POST \/product\/get_memory$/,
  /^GET \/product\/get_memory\/[^/]+$/,
  /^POST \/product\/delete_memory$/,
  /^POST \/product\/feedback$/,
  /^GET \/product\/scheduler\/status\?user_id=[^&]+&task_id=[^&]+$/,
];

function fake(options: { requireKey?: string } = {}) {
  const server = new FakeMemosServer(options);
  const upstream = mockMemos(server.handle);
  return { server, upstream };
}

/** `METHOD /product/...?query` of each request the server got. */
function routes(upstream: UpstreamCall[]): string[] {
  return upstream.map((sent) => {
    const url = new URL(sent.url);
    expect(url.origin).toBe(SERVER_URL);
    return `${sent.method} ${url.pathname}${url.search}`;
  });
}

function expectOnlyServerRoutes(upstream: UpstreamCall[]) {
  for (const route of routes(upstream)) expect(SERVER_ROUTES.some((allowed) => allowed.test(route))).toBe(true);
}

const post = (path: string, body: unknown, overrides: Json = SERVER) => postJson(path, body, overrides);

/** The research's example memory (docs/memos-server.md), as the server's search formats it. */
function seedStrawberries(server: FakeMemosServer, user = "u_123") {
  return server.seed(user, "The user likes strawberries.", {
    key: "Fruit preference",
    tags: ["preference", "fruit"],
    session_id: "conv-1",
    memory_type: "UserMemory",
    info: { app_id: "memos-edge", agent_id: "shop-bot" },
    created_at: "2025-09-18T08:23:44.625511",
    updated_at: "2025-09-18T08:23:45.000000",
  });
}

// ---------------------------------------------------------------------------

describe("selecting the self-hosted server", () => {
  it("serves from MEMOS_SERVER_URL whatever else is set, and /health says memos-server without secrets", async () => {
    const response = await call("/health", {}, { ...SERVER, MEMOS_SERVER_KEY: SERVER_KEY });
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ ok: true, backend: "memos-server" });
    expect(text).not.toContain(SERVER_KEY);
    expect(text).not.toContain(SERVER_URL);
  });

  it("reports the cloud again when MEMOS_SERVER_URL is empty (the wrangler.toml default)", async () => {
    expect(await json(await call("/health", {}, { ...SERVER, MEMOS_SERVER_URL: "" }))).toMatchObject({
      backend: "memos",
    });
  });

  it("tolerates a base URL typed with /product and trailing slashes", async () => {
    const { upstream } = fake();
    const response = await post(
      "/v1/search",
      { user_id: "u", query: "fruit" },
      { MEMOS_SERVER_URL: `${SERVER_URL}/product/` },
    );
    expect(response.status).toBe(200);
    expect(upstream[0]?.url).toBe(`${SERVER_URL}/product/search`);
  });
});

describe("/v1/add → POST /product/add", () => {
  it("maps every field: session_id, custom_tags, info, async_mode as a string, the user's cube, our task id", async () => {
    const { server, upstream } = fake();
    const response = await post("/v1/add", {
      user_id: "alice",
      conversation_id: "conv-7",
      user_message: "My favourite fruit is mango.",
      assistant_message: "Noted!",
      tags: ["food"],
      agent_id: "chef-bot",
      app_id: "kitchen",
      info: { city: "Lisbon" },
      allow_public: true,
      source: "n8n",
    });
    expect(response.status).toBe(200);
    expect(routes(upstream)).toEqual(["POST /product/add"]);
    const sent = upstream[0]?.body as Json;
    expect(sent).toEqual({
      user_id: "alice",
      writable_cube_ids: ["alice"],
      session_id: "conv-7",
      messages: [
        { role: "user", content: "My favourite fruit is mango.", chat_time: expect.any(String) },
        { role: "assistant", content: "Noted!", chat_time: expect.any(String) },
      ],
      async_mode: "async",
      custom_tags: ["food"],
      info: { city: "Lisbon", agent_id: "chef-bot", app_id: "kitchen" },
      task_id: expect.any(String),
    });
    const body = await json(response);
    expect(body).toMatchObject({ ok: true, user_id: "alice", conversation_id: "conv-7", message_count: 2 });
    expect(body.task_id).toBe(sent.task_id);
    expect(body.status).toBe("running");
    expect(server.memoriesOf("alice")).toHaveLength(2);
  });

  it.each([
    [true, "async", "running"],
    ["true", "async", "running"],
    [false, "sync", "completed"],
    ["false", "sync", "completed"],
  ])("sends async_mode %j as %j (the server answers 422 to a boolean)", async (given, sent, status) => {
    const { upstream } = fake();
    const response = await post("/v1/add", { user_id: "u", user_message: "hello there", async_mode: given });
    expect(response.status).toBe(200);
    expect((upstream[0]?.body as Json).async_mode).toBe(sent);
    expect(await json(response)).toMatchObject({ status });
  });

  it("dedupes a retried add: the server gets it once", async () => {
    const { upstream } = fake();
    const add = { user_id: "u", conversation_id: "c", user_message: "I moved to Porto." };
    const first = await json(await post("/v1/add", add));
    const retry = await post("/v1/add", add);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(retry)).toMatchObject({ deduplicated: true, task_id: first.task_id });
    expect(upstream).toHaveLength(1);
  });

  it("refuses a group add of several users (the server stores one user per add), calling nothing", async () => {
    const { upstream } = fake();
    const response = await post("/v1/add", { user_id: ["ann", "ben"], user_message: "We both like tea." });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: "invalid_request", field: "user_id" } });
    expect(upstream).toHaveLength(0);
  });

  it("takes a group of one as that user", async () => {
    const { upstream } = fake();
    expect((await post("/v1/add", { user_id: ["ann", "ann"], user_message: "I like tea." })).status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ user_id: "ann", writable_cube_ids: ["ann"] });
  });
});

describe("/v1/search → POST /product/search", () => {
  it("sends the user's cube and MemOS cloud's defaults explicitly, and maps the answer into memories and text", async () => {
    const { server, upstream } = fake();
    const memory = seedStrawberries(server);
    server.seedPreference("u_123", "The user prefers organic fruit.");
    const response = await post("/v1/search", { user_id: "u_123", query: "which strawberries" });
    expect(response.status).toBe(200);
    expect(routes(upstream)).toEqual(["POST /product/search"]);
    expect(upstream[0]?.body).toEqual({
      query: "which strawberries",
      user_id: "u_123",
      readable_cube_ids: ["u_123"],
      mode: "fast",
      top_k: 10,
      relativity: 0.45,
      include_preference: true,
      pref_top_k: 6,
      search_tool_memory: false,
      include_skill_memory: false,
    });
    const body = await json(response);
    expect(body.memories).toEqual([
      {
        id: memory.id,
        content: "The user likes strawberries.",
        type: "fact",
        score: 0.83,
        created_at: "2025-09-18T08:23:44.625Z",
        conversation_id: "conv-1",
      },
      {
        id: expect.any(String),
        content: "The user prefers organic fruit.",
        type: "preference",
        score: 0.7,
        created_at: expect.any(String),
        conversation_id: "default_session",
      },
    ]);
    expect(body.text).toBe(
      "Facts:\n- Fruit preference: The user likes strawberries.\n\nPreferences:\n- The user prefers organic fruit.",
    );
  });

  it("finds what an add stored (round trip through the fake server)", async () => {
    fake();
    await post("/v1/add", { user_id: "bob", user_message: "My favourite fruit is mango." });
    const body = await json(await post("/v1/search", { user_id: "bob", query: "favourite fruit" }));
    expect(body.count).toBe(1);
    expect(body.text).toBe("Facts:\n- user: My favourite fruit is mango.");
  });

  it("keeps to the conversation asked for (the server only prefers it) and sends it as session_id", async () => {
    const { server, upstream } = fake();
    seedStrawberries(server);
    server.seed("u_123", "The user likes strawberries in June.", { session_id: "conv-2" });
    const body = await json(
      await post("/v1/search", { user_id: "u_123", query: "strawberries", conversation_id: "conv-2" }),
    );
    expect(upstream[0]?.body).toMatchObject({ session_id: "conv-2" });
    expect(body.memories).toEqual([expect.objectContaining({ content: "The user likes strawberries in June." })]);
  });

  it("serves top_k up to 50 without a warning, and passes filters and preference settings", async () => {
    const { upstream } = fake();
    const filter = { and: [{ created_at: { gt: "2024-01-01" } }] };
    const body = await json(
      await post("/v1/search", {
        user_id: "u",
        query: "trip",
        top_k: 50,
        relativity: 0,
        include_preference: false,
        preference_limit_number: 2,
        filter,
        agent_id: "a-1",
      }),
    );
    expect(body.warnings).toBeUndefined();
    expect(upstream[0]?.body).toMatchObject({
      top_k: 50,
      relativity: 0,
      include_preference: false,
      pref_top_k: 2,
      filter: { and: [{ created_at: { gt: "2024-01-01" } }, { agent_id: "a-1" }] },
    });
  });
});

describe("/v1 memory management → /product/*", () => {
  it("/v1/list → get_memory with the user's cube, paged, total and pages mapped", async () => {
    const { server, upstream } = fake();
    for (let index = 0; index < 3; index++) server.seed("u", `Memory number ${index}`);
    const response = await post("/v1/list", { user_id: "u", page: 2, size: 2 });
    expect(response.status).toBe(200);
    expect(routes(upstream)).toEqual(["POST /product/get_memory"]);
    expect(upstream[0]?.body).toEqual({
      mem_cube_id: "u",
      user_id: "u",
      page: 2,
      page_size: 2,
      include_preference: true,
      include_tool_memory: false,
      include_skill_memory: false,
    });
    const body = await json(response);
    expect(body).toMatchObject({ ok: true, total: 3, page: 2, size: 2, pages: 2, count: 1 });
    expect(body.memories).toEqual([expect.objectContaining({ content: "Memory number 0", type: "fact" })]);
  });

  it("/v1/get → GET get_memory/{id}, mapped; another user's or an unknown id is 404", async () => {
    const { server, upstream } = fake();
    const memory = seedStrawberries(server);
    const response = await post("/v1/get", { memory_id: memory.id, user_id: "u_123" });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      memory: {
        id: memory.id,
        title: "Fruit preference",
        content: "The user likes strawberries.",
        status: "activated",
        user_id: "u_123",
        conversation_id: "conv-1",
        tags: ["preference", "fruit"],
        created_at: "2025-09-18T08:23:44.625Z",
        updated_at: "2025-09-18T08:23:45.000Z",
      },
      text: "Fruit preference: The user likes strawberries.",
    });
    expect(routes(upstream)).toEqual([`GET /product/get_memory/${memory.id}`]);
    expect((await post("/v1/get", { memory_id: memory.id, user_id: "someone-else" })).status).toBe(404);
    expect((await post("/v1/get", { memory_id: crypto.randomUUID() })).status).toBe(404);
  });

  it("never sends a dot-segment id (it would reach another route)", async () => {
    const { upstream } = fake();
    expect((await post("/v1/get", { memory_id: ".." })).status).toBe(404);
    expect(upstream).toHaveLength(0);
  });

  it("/v1/delete memory_ids with a user: reads each, deletes only that user's with their cube", async () => {
    const { server, upstream } = fake();
    const mine = server.seed("u", "Mine");
    const theirs = server.seed("other", "Theirs");
    const response = await post("/v1/delete", { user_id: "u", memory_ids: [mine.id, theirs.id] });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ ok: true, deleted: 1 });
    expect(routes(upstream).slice(-1)).toEqual(["POST /product/delete_memory"]);
    expect(upstream.at(-1)?.body).toEqual({ memory_ids: [mine.id], writable_cube_ids: ["u"] });
    expect(server.memoriesOf("u")).toHaveLength(0);
    expect(server.memoriesOf("other")).toHaveLength(1);
  });

  it("/v1/delete a conversation: lists the user's cube, deletes that session's memories", async () => {
    const { server, upstream } = fake();
    server.seed("u", "In conversation one", { session_id: "c1" });
    const keep = server.seed("u", "In conversation two", { session_id: "c2" });
    const response = await post("/v1/delete", { user_id: "u", conversation_id: "c1" });
    expect(await json(response)).toMatchObject({ ok: true, deleted: 1 });
    expect(routes(upstream)).toEqual(["POST /product/get_memory", "POST /product/delete_memory"]);
    expect(server.memoriesOf("u").map((node) => node.id)).toEqual([keep.id]);
  });

  it("/v1/delete by agent alone is refused (memories live per user), calling nothing", async () => {
    const { upstream } = fake();
    const response = await post("/v1/delete", { agent_id: "bot" });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: "invalid_request", field: "agent_id" } });
    expect(upstream).toHaveLength(0);
  });

  it("/v1/forget: a dry run counts, the real one empties the user's cube (facts and preferences)", async () => {
    const { server, upstream } = fake();
    for (let index = 0; index < 3; index++) server.seed("u", `Memory ${index}`);
    server.seedPreference("u", "Likes tea");
    server.seed("v", "Someone else's");
    expect(await json(await post("/v1/forget", { user_id: "u", dry_run: true }))).toMatchObject({ would_delete: 4 });
    expect(await json(await post("/v1/forget", { user_id: "u" }))).toMatchObject({ ok: true, deleted: 4 });
    expect(server.memoriesOf("u")).toEqual([]);
    expect(server.preferences.get("u")).toEqual([]);
    expect(server.memoriesOf("v")).toHaveLength(1);
    expectOnlyServerRoutes(upstream);
  });

  it("/v1/update is refused with a clear 400: the server cannot edit a memory", async () => {
    const { server, upstream } = fake();
    const memory = server.seed("u", "Old text");
    const response = await post("/v1/update", { memory_id: memory.id, content: "New text" });
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body).toMatchObject({ ok: false, error: { code: "invalid_request", field: "memory_id" } });
    expect(JSON.stringify(body)).toContain("delete it and add the corrected text");
    expect(upstream).toHaveLength(0);
    expect(server.memoriesOf("u")[0]?.memory).toBe("Old text");
  });

  it("/v1/status asks the scheduler for the add's task with its user", async () => {
    const { server, upstream } = fake();
    const added = await json(await post("/v1/add", { user_id: "ann@example.com", user_message: "hello there" }));
    const taskId = String(added.task_id);
    const status = await post("/v1/status", { task_id: taskId });
    expect(await json(status)).toMatchObject({ ok: true, task_id: taskId, status: "running" });
    const query = new URLSearchParams({ user_id: "ann@example.com", task_id: taskId }).toString();
    expect(routes(upstream)).toEqual(["POST /product/add", `GET /product/scheduler/status?${query}`]);

    server.tasks.get("ann@example.com")?.set(taskId, "completed");
    expect(await json(await post("/v1/status", { task_id: taskId }))).toMatchObject({ status: "completed" });
  });

  it("/v1/status carries a user id of any script in the task id", async () => {
    fake();
    const added = await json(await post("/v1/add", { user_id: "用户 7/a", user_message: "你好，我喜欢芒果" }));
    expect(await json(await post("/v1/status", { task_id: String(added.task_id) }))).toMatchObject({
      status: "running",
    });
  });

  it("/v1/status: 404 for a task the server does not know, and for an id that is not ours (no call)", async () => {
    const { upstream } = fake();
    const unknown = await post("/v1/status", { task_id: "AAAAAAAAAAAA.u.nobody" });
    expect(unknown.status).toBe(404);
    expect(upstream).toHaveLength(1);
    const foreign = await post("/v1/status", { task_id: "task-1" });
    expect(foreign.status).toBe(404);
    expect(upstream).toHaveLength(1);
  });

  it("/v1/feedback → feedback with history [], the user's cube, async and our task id", async () => {
    const { upstream } = fake();
    const response = await post("/v1/feedback", {
      user_id: "u",
      feedback: "I moved to Porto, not Lisbon.",
      conversation_id: "c-1",
      agent_id: "bot",
    });
    expect(response.status).toBe(200);
    const sent = upstream[0]?.body as Json;
    expect(routes(upstream)).toEqual(["POST /product/feedback"]);
    expect(sent).toEqual({
      user_id: "u",
      writable_cube_ids: ["u"],
      history: [],
      feedback_content: "I moved to Porto, not Lisbon.",
      async_mode: "async",
      task_id: expect.any(String),
      session_id: "c-1",
      info: { agent_id: "bot" },
    });
    expect(await json(response)).toMatchObject({ ok: true, task_id: sent.task_id, status: "running" });
    expect(await json(await post("/v1/status", { task_id: String(sent.task_id) }))).toMatchObject({
      status: "running",
    });
  });

  it("/v1/messages is refused with a clear 400: the server keeps no conversation messages", async () => {
    const { upstream } = fake();
    const response = await post("/v1/messages", { user_id: "u", conversation_id: "c" });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: "invalid_request" } });
    expect(upstream).toHaveLength(0);
  });
});

describe("the MemOS-compatible routes on the server", () => {
  const compat = (path: string, body: unknown) =>
    call(
      `${PREFIX}/${path}`,
      {
        method: "POST",
        headers: { Authorization: `Token ${TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      },
      SERVER,
    );

  it("add/message answers MemOS cloud's envelope with our task id", async () => {
    const { upstream } = fake();
    const response = await compat("add/message", {
      user_id: "u",
      conversation_id: "c",
      messages: [{ role: "user", content: "I like jazz." }],
      async_mode: null,
      tags: null,
      writable_cube_ids: ["someone-else"],
      is_feedback: true,
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({ code: 0, message: "Memory added successfully" });
    expect(body.data).toEqual({
      success: true,
      task_id: expect.any(String),
      status: "running",
      memory_ids: [expect.any(String)],
    });
    // Only mapped fields: a caller's own cube ids or feedback flag never reach the server.
    expect(upstream[0]?.body).toEqual({
      user_id: "u",
      writable_cube_ids: ["u"],
      session_id: "c",
      messages: [{ role: "user", content: "I like jazz.", chat_time: expect.any(String) }],
      async_mode: "async",
      task_id: (body.data as Json).task_id,
    });
  });

  it("add/message refuses an agent-only add MemOS-shaped, calling nothing", async () => {
    const { upstream } = fake();
    const response = await compat("add/message", { agent_id: "bot", messages: [{ role: "user", content: "hi" }] });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ code: 40000, data: null });
    expect(upstream).toHaveLength(0);
  });

  it("search/memory answers memory_detail_list / preference_detail_list / preference_note", async () => {
    const { server, upstream } = fake();
    const memory = seedStrawberries(server);
    const response = await compat("search/memory", { user_id: "u_123", query: "strawberries", memory_limit_number: 3 });
    expect(response.status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ top_k: 3, readable_cube_ids: ["u_123"] });
    expect(await json(response)).toEqual({
      code: 0,
      message: "Search completed successfully",
      data: {
        memory_detail_list: [
          {
            id: memory.id,
            memory_key: "Fruit preference",
            memory_value: "The user likes strawberries.",
            memory_type: "UserMemory",
            create_time: Date.UTC(2025, 8, 18, 8, 23, 44, 625),
            update_time: Date.UTC(2025, 8, 18, 8, 23, 45),
            conversation_id: "conv-1",
            status: "activated",
            confidence: 0.99,
            tags: ["preference", "fruit"],
            relativity: 0.83,
            agent_id: "shop-bot",
            app_id: "memos-edge",
            info: { app_id: "memos-edge", agent_id: "shop-bot" },
          },
        ],
        preference_detail_list: [],
      },
    });
  });

  it("search/memory maps tool and skill memories and a preference note when the server has them", async () => {
    mockMemos(() =>
      Response.json({
        code: 200,
        message: "Search completed successfully",
        data: {
          text_mem: [],
          pref_mem: [
            {
              cube_id: "u",
              memories: [
                {
                  id: "p-1",
                  memory: "Likes quiet hotels",
                  metadata: { preference_type: "implicit_preference", preference: "Likes quiet hotels", score: 0.6 },
                },
              ],
              total_nodes: 1,
            },
          ],
          pref_note: "Preferences are inferred.",
          pref_string: "- Likes quiet hotels",
          tool_mem: [{ cube_id: "u", memories: [{ id: "t-1", memory: "search_web worked", metadata: {} }] }],
          skill_mem: [{ cube_id: "u", memories: [{ id: "s-1", memory: "Books trains", metadata: {} }] }],
        },
      }),
    );
    const body = await json(await compat("search/memory", { user_id: "u", query: "hotel", include_tool_memory: true }));
    expect(body.data).toMatchObject({
      preference_detail_list: [
        { id: "p-1", preference_type: "implicit_preference", preference: "Likes quiet hotels", relativity: 0.6 },
      ],
      tool_memory_detail_list: [{ id: "t-1", memory_value: "search_web worked" }],
      skill_detail_list: [{ id: "s-1", memory_value: "Books trains" }],
      preference_note: "Preferences are inferred.",
    });
  });

  it("get/memory, GET get/memory/{id}, delete/memory, get/status, add/feedback reach their /product routes", async () => {
    const { server, upstream } = fake();
    const memory = seedStrawberries(server);
    const listed = await json(await compat("get/memory", { user_id: "u_123", page: 1, size: 10 }));
    expect(listed).toMatchObject({
      code: 0,
      data: {
        memory_detail_list: [{ id: memory.id, memory_value: "The user likes strawberries." }],
        total: 1,
        pages: 1,
      },
    });

    const one = await call(
      `${PREFIX}/get/memory/${memory.id}`,
      { headers: { Authorization: `Token ${TOKEN}` } },
      SERVER,
    );
    expect(await json(one)).toMatchObject({
      code: 0,
      data: { id: memory.id, title: "Fruit preference", content: "The user likes strawberries.", user_id: "u_123" },
    });

    const feedback = await json(await compat("add/feedback", { user_id: "u_123", feedback_content: "Wrong fruit." }));
    expect(feedback).toMatchObject({ code: 0, data: { success: true, status: "running" } });
    const status = await json(await compat("get/status", { task_id: (feedback.data as Json).task_id }));
    expect(status).toMatchObject({ code: 0, data: { status: "running", server_status: "waiting" } });

    const deleted = await json(await compat("delete/memory", { memory_ids: [memory.id] }));
    expect(deleted).toMatchObject({ code: 0, data: { success: true, deleted: 1 } });
    expect(upstream.at(-1)?.body).toEqual({ memory_ids: [memory.id], writable_cube_ids: ["u_123"] });
    expect(server.memoriesOf("u_123")).toEqual([]);
    expect(routes(upstream)).toEqual([
      "POST /product/get_memory",
      `GET /product/get_memory/${memory.id}`,
      "POST /product/feedback",
      expect.stringMatching(/^GET \/product\/scheduler\/status\?user_id=u_123&task_id=/),
      `GET /product/get_memory/${memory.id}`,
      "POST /product/delete_memory",
    ]);
  });

  it("update/memory and get/message answer MemOS-shaped 400s and call nothing", async () => {
    const { upstream } = fake();
    for (const [path, body] of [
      ["update/memory", { memory_id: "m-1", content: "new" }],
      ["get/message", { user_id: "u", conversation_id: "c" }],
    ] as const) {
      const response = await compat(path, body);
      expect(response.status).toBe(400);
      expect(await json(response)).toMatchObject({
        code: 40000,
        message: expect.stringContaining("self-hosted"),
        data: null,
      });
    }
    expect(upstream).toHaveLength(0);
  });

  it("delete/memory by filter uses the server's filter mode; its failure inside HTTP 200 is a 502, not a success", async () => {
    const { upstream } = fake();
    const response = await compat("delete/memory", { filter: { and: [{ session_id: "c" }] } });
    expect(upstream[0]?.body).toEqual({ filter: { and: [{ session_id: "c" }] } });
    expect(response.status).toBe(502);
    expect(await json(response)).toMatchObject({ code: 50200, data: null });
  });
});

describe("Dify surfaces on the server", () => {
  it("/dify/retrieval answers records from the server's memories, backend memos-server", async () => {
    const { server, upstream } = fake();
    const memory = seedStrawberries(server);
    const response = await post("/dify/retrieval", {
      knowledge_id: "u_123",
      query: "strawberries",
      retrieval_setting: { top_k: 4, score_threshold: 0.5 },
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      records: [
        {
          content: "The user likes strawberries.",
          score: 0.83,
          title: "Fruit preference",
          metadata: expect.objectContaining({ document_id: memory.id, backend: "memos-server", type: "fact" }),
        },
      ],
    });
    expect(upstream[0]?.body).toMatchObject({ user_id: "u_123", top_k: 4, readable_cube_ids: ["u_123"] });
  });

  it("/dify/extension answers the memory text", async () => {
    const { server } = fake();
    seedStrawberries(server);
    const response = await post("/dify/extension", {
      point: "app.external_data_tool.query",
      params: { app_id: "app", tool_variable: "memory", inputs: { user_id: "u_123" }, query: "strawberries" },
    });
    expect(await json(response)).toEqual({ result: "Facts:\n- Fruit preference: The user likes strawberries." });
  });
});

describe("server failures map like the cloud's", () => {
  const add = { user_id: "u", user_message: "hello there" };
  const failures: [string, () => Response | Promise<Response>, number, string][] = [
    [
      "HTTP 500 envelope",
      () => Response.json({ code: 500, message: "boom", data: null }, { status: 500 }),
      502,
      "upstream_error",
    ],
    ["HTTP 503 text", () => new Response("Service Unavailable", { status: 503 }), 502, "upstream_error"],
    [
      "code 500 inside HTTP 200",
      () => Response.json({ code: 500, message: "internal", data: null }),
      502,
      "upstream_error",
    ],
    [
      "code 0 inside HTTP 200 (not the server's success)",
      () => Response.json({ code: 0, message: "ok", data: {} }),
      502,
      "upstream_error",
    ],
    ["garbage", () => new Response("<html>proxy error</html>", { status: 200 }), 502, "upstream_error"],
    ["JSON without an envelope", () => Response.json({ hello: "world" }), 502, "upstream_error"],
    [
      "a missing route (wrong MEMOS_SERVER_URL)",
      () => Response.json({ detail: "Not Found" }, { status: 404 }),
      502,
      "upstream_error",
    ],
    ["a dropped connection", () => Promise.reject(new TypeError("Network connection lost.")), 502, "upstream_error"],
    [
      "HTTP 401 (auth on, no key)",
      () => Response.json({ detail: "Authorization header required." }, { status: 401 }),
      502,
      "upstream_auth",
    ],
    [
      "HTTP 429",
      () => new Response("slow down", { status: 429, headers: { "Retry-After": "5" } }),
      429,
      "upstream_rate_limited",
    ],
  ];

  const cases = failures.map(([name, reply, status, code]) => [name, status, code, reply] as const);
  it.each(cases)("%s → %i %s on /v1/add and /v1/search", async (_name, status, code, reply) => {
    mockMemos(reply);
    for (const [path, body] of [
      ["/v1/add", add],
      ["/v1/search", { user_id: "u", query: "hello" }],
    ] as const) {
      const response = await post(path, body);
      expect(response.status).toBe(status);
      expect(await json(response)).toMatchObject({ ok: false, error: { code } });
    }
  });

  it("names MEMOS_SERVER_URL for a missing route and MEMOS_SERVER_KEY for a refused key", async () => {
    mockMemos(() => Response.json({ detail: "Not Found" }, { status: 404 }));
    expect(JSON.stringify(await json(await post("/v1/add", add)))).toContain("MEMOS_SERVER_URL");
    mockMemos(() => Response.json({ detail: "Invalid or unknown agent key." }, { status: 401 }));
    expect(JSON.stringify(await json(await post("/v1/add", add)))).toContain("MEMOS_SERVER_KEY");
  });

  it("an unreachable host → 502 upstream_error", async () => {
    mockMemos(() => Promise.reject(new TypeError("fetch failed: getaddrinfo ENOTFOUND memos.internal")));
    const response = await postJson(
      "/v1/search",
      { user_id: "u", query: "q" },
      { MEMOS_SERVER_URL: "http://127.0.0.1:1" },
    );
    expect(response.status).toBe(502);
    expect(await json(response)).toMatchObject({ error: { code: "upstream_error" } });
  });

  it("a timeout → 504 upstream_timeout", async () => {
    mockMemos(
      (request) =>
        new Promise<Response>((_resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("should have timed out")), 5_000);
          request.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(request.signal.reason);
          });
        }),
    );
    const response = await post("/v1/add", add, { ...SERVER, MEMOS_ADD_TIMEOUT_MS: "150" });
    expect(response.status).toBe(504);
    expect(await json(response)).toMatchObject({ error: { code: "upstream_timeout" } });
  });

  it("the server's 422 envelope → 400 upstream_rejected with its message", async () => {
    mockMemos(() =>
      Response.json(
        {
          code: 422,
          message:
            "Parameter validation error on POST /product/add: [body -> async_mode] Input should be 'async' or 'sync' (type: literal_error)",
          detail: [{ loc: ["body", "async_mode"], msg: "Input should be 'async' or 'sync'", type: "literal_error" }],
          data: null,
        },
        { status: 422 },
      ),
    );
    const response = await post("/v1/add", add);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body).toMatchObject({ error: { code: "upstream_rejected", upstream_status: 422 } });
    expect((body.error as Json).message).toContain("[body -> async_mode] Input should be 'async' or 'sync'");
  });

  it("FastAPI's own 422 (a detail list, older servers) → 400 upstream_rejected naming the field", async () => {
    mockMemos(() =>
      Response.json(
        { detail: [{ loc: ["body", "mem_cube_id"], msg: "Field required", type: "missing", input: {} }] },
        { status: 422 },
      ),
    );
    const response = await post("/v1/list", { user_id: "u" });
    expect(response.status).toBe(400);
    expect(((await json(response)).error as Json).message).toContain("[body -> mem_cube_id] Field required");
  });

  it("the server's 400 refusal (empty message content) → 400 upstream_rejected", async () => {
    fake();
    const response = await call(
      `${PREFIX}/add/message`,
      {
        method: "POST",
        headers: { Authorization: `Token ${TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          user_id: "u",
          messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
        }),
      },
      SERVER,
    );
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({
      code: 40000,
      message: "MemOS refused the request: Message content must not be empty.",
      data: null,
    });
  });

  it("MemOS-compatible callers get memos-edge's codes, not the server's HTTP-style ones", async () => {
    mockMemos(() => Response.json({ code: 500, message: "internal", data: null }, { status: 500 }));
    const response = await call(
      `${PREFIX}/search/memory`,
      {
        method: "POST",
        headers: { Authorization: `Token ${TOKEN}` },
        body: JSON.stringify({ user_id: "u", query: "q" }),
      },
      SERVER,
    );
    expect(response.status).toBe(502);
    expect(await json(response)).toMatchObject({ code: 50200, data: null });
  });

  it("no dedupe record after a failed add: the retry reaches the server", async () => {
    const server = new FakeMemosServer();
    const upstream = mockMemos((request, index) =>
      index === 0 ? new Response("boom", { status: 500 }) : server.handle(request),
    );
    expect((await post("/v1/add", add)).status).toBe(502);
    expect((await post("/v1/add", add)).status).toBe(200);
    expect(upstream).toHaveLength(2);
  });
});

describe("the server key", () => {
  it("is sent as Authorization: Bearer only when MEMOS_SERVER_KEY is set", async () => {
    const { upstream } = fake({ requireKey: SERVER_KEY });
    expect((await post("/v1/search", { user_id: "u", query: "q" })).status).toBe(502);
    expect(upstream[0]?.headers.get("Authorization")).toBeNull();

    const withKey = await post("/v1/search", { user_id: "u", query: "q" }, { ...SERVER, MEMOS_SERVER_KEY: SERVER_KEY });
    expect(withKey.status).toBe(200);
    expect(upstream[1]?.headers.get("Authorization")).toBe(`Bearer ${SERVER_KEY}`);
    // Neither the caller's token nor the cloud key ever reaches the server.
    for (const sent of upstream) {
      for (const [name, value] of sent.headers) expect(`${name}: ${value}`).not.toContain(TOKEN);
      expect(JSON.stringify(sent.body)).not.toContain(MEMOS_KEY);
    }
  });

  it("accepts the key typed with its Bearer prefix", async () => {
    const { upstream } = fake({ requireKey: SERVER_KEY });
    const response = await post(
      "/v1/search",
      { user_id: "u", query: "q" },
      { ...SERVER, MEMOS_SERVER_KEY: `Bearer ${SERVER_KEY}` },
    );
    expect(response.status).toBe(200);
    expect(upstream[0]?.headers.get("Authorization")).toBe(`Bearer ${SERVER_KEY}`);
  });

  it.each([
    [
      "an accepted search echoing it",
      () =>
        Response.json({
          code: 200,
          message: `ok ${SERVER_KEY}`,
          data: {
            text_mem: [
              { cube_id: "u", memories: [{ id: "m", memory: `key ${SERVER_KEY}`, metadata: { relativity: 0.9 } }] },
            ],
          },
        }),
    ],
    ["a 401 echoing it", () => Response.json({ detail: `Invalid key ${SERVER_KEY}` }, { status: 401 })],
    ["a 422 echoing it", () => Response.json({ code: 422, message: `bad ${SERVER_KEY}`, data: null }, { status: 422 })],
    [
      "a 500 echoing it",
      () => Response.json({ code: 500, message: `boom ${SERVER_KEY}`, data: null }, { status: 500 }),
    ],
    ["code 500 in HTTP 200 echoing it", () => Response.json({ code: 500, message: `boom ${SERVER_KEY}`, data: null })],
  ])("never appears in an answer: %s", async (_name, reply) => {
    mockMemos(reply);
    const overrides = { ...SERVER, MEMOS_SERVER_KEY: SERVER_KEY };
    for (const response of [
      await post("/v1/search", { user_id: "u", query: "key" }, overrides),
      await call(
        `${PREFIX}/search/memory`,
        {
          method: "POST",
          headers: { Authorization: `Token ${TOKEN}` },
          body: JSON.stringify({ user_id: "u", query: "key" }),
        },
        overrides,
      ),
    ]) {
      expect(await response.text()).not.toContain(SERVER_KEY);
    }
  });
});

describe("no open proxy on the server backend", () => {
  it("every surface reaches only the fixed /product routes", async () => {
    const { server, upstream } = fake();
    const memory = seedStrawberries(server);
    await post("/v1/add", { user_id: "u_123", user_message: "hello there" });
    await post("/v1/search", { user_id: "u_123", query: "strawberries" });
    await post("/v1/list", { user_id: "u_123" });
    await post("/v1/get", { memory_id: memory.id });
    await post("/v1/feedback", { user_id: "u_123", feedback: "no" });
    await post("/v1/delete", { user_id: "u_123", conversation_id: "conv-1" });
    await post("/v1/forget", { user_id: "u_123" });
    expect(upstream.length).toBeGreaterThan(6);
    expectOnlyServerRoutes(upstream);
  });

  it.each([
    ["POST", `${PREFIX}/chat`],
    ["POST", `${PREFIX}/product/add`],
    ["POST", "/product/add"],
    ["POST", "/product/search"],
    ["GET", "/product/scheduler/allstatus"],
  ])("%s %s → 404, the server never called", async (method, path) => {
    const { upstream } = fake();
    const response = await call(
      path,
      {
        method,
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
        ...(method === "POST" ? { body: JSON.stringify({ user_id: "u", query: "q", messages: "hi" }) } : {}),
      },
      SERVER,
    );
    expect(response.status).toBe(404);
    expect(upstream).toHaveLength(0);
  });
});
