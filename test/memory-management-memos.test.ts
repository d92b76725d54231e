/**
 * Issue 16, the MemOS-compatible surface: the official MemOS client's
 * (`MemOSClient`) get_memory, get_memory_by_id, delete_memory (both client
 * generations), update_memory, get_task_status, add_feedback and get_message,
 * with its bodies byte for byte (Python `json.dumps`: every optional field as
 * `null`, `", "` / `": "`, `\uXXXX`), `Authorization: Token <key>`, and the
 * answer fields its pydantic models require. Both backends: a fake MemOS at
 * the fetch boundary (`fakeMemos`), and the embedded D1 store.
 */
import { describe, expect, it } from "vitest";
import {
  CLOUD,
  LOCAL,
  MEMOS_BASE,
  MEMOS_KEY,
  TOKEN,
  call,
  fakeMemos,
  json,
  memosOk,
  mockMemos,
  pythonJson,
  BACKENDS,
  upstreamFor,
  type UpstreamCall,
  type EnvOverrides,
} from "./helpers";

const PREFIX = "/api/openmem/v1";

/** `requests.post(url, data=json.dumps(payload), headers=self.headers, timeout=30)` from MemOSClient. */
function client(path: string, payload: unknown, overrides: EnvOverrides): Promise<Response> {
  return call(
    `${PREFIX}/${path}`,
    {
      method: "POST",
      headers: {
        "User-Agent": "python-requests/2.32.3",
        Accept: "*/*",
        "Content-Type": "application/json",
        Authorization: `Token ${TOKEN}`,
      },
      body: pythonJson(payload),
    },
    overrides,
  );
}

/** `requests.get(f"{base_url}/get/memory/{quote(memid, safe='')}", headers=self.headers)` (C-new). */
function clientGet(memoryId: string, overrides: EnvOverrides): Promise<Response> {
  return call(
    `${PREFIX}/get/memory/${encodeURIComponent(memoryId)}`,
    { method: "GET", headers: { "Content-Type": "application/json", Authorization: `Token ${TOKEN}` } },
    overrides,
  );
}

interface Envelope {
  code: number;
  message: string;
  data: Record<string, any>;
}

/** A success as the client's models take it: `code` int, `message` str, `data` non-null. */
async function success(response: Response): Promise<Envelope> {
  const answer = (await json(response)) as unknown as Envelope;
  expect(response.status, JSON.stringify(answer)).toBe(200);
  expect(answer.code).toBe(0);
  expect(typeof answer.message).toBe("string");
  expect(answer.data).not.toBeNull();
  expect(typeof answer.data).toBe("object");
  return answer;
}

/** An error in MemOS's dialect: a non-zero code, `data: null`, and a real HTTP status. */
async function failure(response: Response, status: number, code: number) {
  const answer = (await json(response)) as unknown as Envelope;
  expect(response.status, JSON.stringify(answer)).toBe(status);
  expect(answer).toMatchObject({ code, data: null });
  expect(typeof answer.message).toBe("string");
  return answer;
}

/** MemOSClient.add_message (C-new): every key, unset ones as null. */
function addPayload(userId: string, conversationId: string, content: string) {
  return {
    messages: [{ role: "user", content }],
    user_id: userId,
    conversation_id: conversationId,
    info: null,
    source: null,
    app_id: null,
    agent_id: null,
    async_mode: true,
    tags: null,
    allow_public: false,
    allow_knowledgebase_ids: null,
    allow_memory_view: null,
  };
}

/** MemOSClient.get_memory (C-mid / C-new): always these 8 keys. */
function getMemoryPayload(userId: string | null, agentId: string | null = null, page = 1, size = 10) {
  return {
    include_preference: true,
    user_id: userId,
    agent_id: agentId,
    include_tool_memory: true,
    include_memory_view: null,
    filter: null,
    page,
    size,
  };
}

async function addVia(overrides: EnvOverrides, userId: string, conversationId: string, content: string) {
  return success(await client("add/message", addPayload(userId, conversationId, content), overrides));
}

async function memoriesOf(overrides: EnvOverrides, userId: string) {
  const { data } = await success(await client("get/memory", getMemoryPayload(userId, null, 1, 50), overrides));
  return data.memory_detail_list as { id: string; memory_value: string; conversation_id: string }[];
}

async function idOf(overrides: EnvOverrides, userId: string, content: string): Promise<string> {
  const found = (await memoriesOf(overrides, userId)).find((memory) => memory.memory_value === content);
  expect(found, `${userId} has "${content}"`).toBeDefined();
  return found!.id;
}

describe.each(BACKENDS)("MemOS drop-in memory management (%s backend)", (kind, overrides) => {
  it("get_memory: paged detail lists, total / size / current / pages as ints, nulls accepted", async () => {
    upstreamFor(kind);
    for (const fact of ["first", "second", "third"]) await addVia(overrides, "alice", "c1", `${fact} fact`);
    const { data } = await success(await client("get/memory", getMemoryPayload("alice", null, 1, 2), overrides));
    expect(data).toMatchObject({ total: 3, size: 2, current: 1, pages: 2 });
    for (const field of ["total", "size", "current", "pages"]) expect(Number.isInteger(data[field])).toBe(true);
    expect(Array.isArray(data.memory_detail_list)).toBe(true);
    expect(Array.isArray(data.preference_detail_list)).toBe(true);
    expect(data.memory_detail_list.map((m: { memory_value: string }) => m.memory_value)).toEqual([
      "third fact",
      "second fact",
    ]);
    expect(data.memory_detail_list[0]).toMatchObject({ id: expect.any(String), conversation_id: "c1" });

    // C-old: {"include_preference": true, "user_id": ..., "page": 1, "size": 10}.
    const old = await success(
      await client("get/memory", { include_preference: true, user_id: "alice", page: 2, size: 2 }, overrides),
    );
    expect(old.data).toMatchObject({ total: 3, current: 2, pages: 2 });
    expect(old.data.memory_detail_list).toHaveLength(1);
    const empty = await success(await client("get/memory", getMemoryPayload("nobody"), overrides));
    expect(empty.data).toMatchObject({ memory_detail_list: [], total: 0 });
  });

  it("get_memory_by_id: one memory; an unknown id is a MemOS-shaped 404", async () => {
    upstreamFor(kind);
    await addVia(overrides, "alice", "c1", "I live in Porto");
    const id = await idOf(overrides, "alice", "I live in Porto");
    const { data } = await success(await clientGet(id, overrides));
    expect(data).toMatchObject({ id, content: "I live in Porto", conversation_id: "c1", status: "activated" });
    expect(data.user_id).toBe("alice");
    await failure(await clientGet("no-such-memory", overrides), 404, 40400);
  });

  it("delete_memory, both client generations: success, and idempotent", async () => {
    upstreamFor(kind);
    for (const fact of ["one", "two", "three", "four"]) await addVia(overrides, "alice", "c1", fact);
    await addVia(overrides, "bob", "c1", "bob's");
    const [one, two] = [await idOf(overrides, "alice", "one"), await idOf(overrides, "alice", "two")];

    // C-old: delete_memory(user_ids, memory_ids) sends both keys.
    const legacy = await success(await client("delete/memory", { user_ids: ["alice"], memory_ids: [one] }, overrides));
    expect(legacy.data.success).toBe(true);
    // C-mid / C-new: only the key that is set.
    expect((await success(await client("delete/memory", { memory_ids: [two] }, overrides))).data.success).toBe(true);
    expect((await memoriesOf(overrides, "alice")).map((m) => m.memory_value).sort()).toEqual(["four", "three"]);
    // Again: already gone, still a success.
    for (const body of [{ user_ids: ["alice"], memory_ids: [one] }, { memory_ids: [two] }]) {
      expect((await success(await client("delete/memory", body, overrides))).data.success).toBe(true);
    }
    // Another user's id named with a user is not touched.
    const bobId = await idOf(overrides, "bob", "bob's");
    await success(await client("delete/memory", { user_ids: ["alice"], memory_ids: [bobId] }, overrides));
    expect(await memoriesOf(overrides, "bob")).toHaveLength(1);

    expect((await success(await client("delete/memory", { user_id: "alice" }, overrides))).data.success).toBe(true);
    expect(await memoriesOf(overrides, "alice")).toEqual([]);
    expect(await memoriesOf(overrides, "bob")).toHaveLength(1);
    expect((await success(await client("delete/memory", { user_id: "alice" }, overrides))).data.success).toBe(true);
  });

  it("delete_memory by agent_id, and get_memory by agent_id", async () => {
    upstreamFor(kind);
    await success(
      await client("add/message", { ...addPayload("alice", "c1", "agent fact"), agent_id: "travel-bot" }, overrides),
    );
    await addVia(overrides, "alice", "c1", "plain fact");
    const byAgent = await success(await client("get/memory", getMemoryPayload(null, "travel-bot"), overrides));
    expect(byAgent.data.memory_detail_list.map((m: { memory_value: string }) => m.memory_value)).toEqual([
      "agent fact",
    ]);
    expect((await success(await client("delete/memory", { agent_id: "travel-bot" }, overrides))).data.success).toBe(
      true,
    );
    expect((await memoriesOf(overrides, "alice")).map((m) => m.memory_value)).toEqual(["plain fact"]);
  });

  it("update_memory with null title and status; an unknown id is a 404", async () => {
    upstreamFor(kind);
    await addVia(overrides, "alice", "c1", "I live in Porto");
    const id = await idOf(overrides, "alice", "I live in Porto");
    const answer = await success(
      await client(
        "update/memory",
        { memory_id: id, content: "I live in Lisbon", title: null, status: null },
        overrides,
      ),
    );
    expect(answer.data.success).toBe(true);
    expect((await success(await clientGet(id, overrides))).data).toMatchObject({
      content: "I live in Lisbon",
      status: "activated",
    });
    await failure(
      await client("update/memory", { memory_id: id, content: null, title: null, status: null }, overrides),
      400,
      40000,
    );
    await failure(
      await client("update/memory", { memory_id: id, content: null, title: null, status: "gone" }, overrides),
      400,
      40000,
    );
    await failure(
      await client(
        "update/memory",
        { memory_id: "no-such-memory", content: "x", title: null, status: null },
        overrides,
      ),
      404,
      40400,
    );
  });

  it("get_task_status: {task_id, status} for an add's task; an unknown task is a 404", async () => {
    upstreamFor(kind);
    const added = await addVia(overrides, "alice", "c1", "status please");
    const taskId = added.data.task_id as string;
    const { data } = await success(await client("get/status", { task_id: taskId }, overrides));
    // MemOSClient (C-new) requires task_id and status, both strings.
    expect(data).toEqual({ task_id: taskId, status: kind === "cloud" ? "running" : "completed" });
    await failure(await client("get/status", { task_id: "task-unknown" }, overrides), 404, 40400);
  });

  it("add_feedback: every key sent, nulls included; data has success, task_id and status", async () => {
    upstreamFor(kind);
    const payload = {
      feedback_content: "Actually I moved to Lisbon.",
      user_id: "alice",
      conversation_id: null,
      agent_id: null,
      app_id: null,
      feedback_time: null,
      allow_public: false,
      allow_knowledgebase_ids: null,
    };
    const { data } = await success(await client("add/feedback", payload, overrides));
    expect(data.success).toBe(true);
    expect(typeof data.task_id).toBe("string");
    expect(typeof data.status).toBe("string");
    const status = await success(await client("get/status", { task_id: data.task_id }, overrides));
    expect(status.data.task_id).toBe(data.task_id);
  });

  it("get_message: null limits take the default 6, newest first chosen, told in order", async () => {
    upstreamFor(kind);
    for (let i = 1; i <= 8; i++) await addVia(overrides, "alice", "c1", `message ${i}`);
    await addVia(overrides, "alice", "c2", "elsewhere");
    const payload = {
      user_id: "alice",
      conversation_id: "c1",
      conversation_limit_number: null,
      message_limit_number: null,
      source: null,
    };
    const { data } = await success(await client("get/message", payload, overrides));
    expect(data.message_detail_list.map((m: { content: string }) => m.content)).toEqual(
      [3, 4, 5, 6, 7, 8].map((i) => `message ${i}`),
    );
    expect(data.message_detail_list[0]).toMatchObject({ role: "user", create_time: expect.any(String) });
    const two = await success(await client("get/message", { ...payload, message_limit_number: 2 }, overrides));
    expect(two.data.message_detail_list.map((m: { content: string }) => m.content)).toEqual(["message 7", "message 8"]);
    const none = await success(await client("get/message", { ...payload, conversation_id: "c-none" }, overrides));
    expect(none.data.message_detail_list).toEqual([]);
  });

  it("refuses bad ids and bad delete bodies with a MemOS 400, before any call", async () => {
    const { calls } = upstreamFor(kind);
    const cases: [string, unknown][] = [
      ["delete/memory", {}],
      ["delete/memory", { memory_ids: [] }],
      ["delete/memory", { memory_ids: ["bad id!"] }],
      ["delete/memory", { memory_ids: ["x".repeat(129)] }],
      ["delete/memory", { user_id: "alice", agent_id: "bot" }],
      ["delete/memory", { user_ids: ["alice", "bob"] }],
      ["delete/memory", { memory_ids: null, user_id: null, agent_id: null }],
      ["update/memory", { memory_id: "bad/id", content: "x", title: null, status: null }],
      ["update/memory", { memory_id: null, content: "x", title: null, status: null }],
      ["get/status", { task_id: "" }],
      ["get/status", { task_id: "x".repeat(129) }],
      ["get/memory", getMemoryPayload(null)],
      ["get/memory", getMemoryPayload("alice", null, 1, 51)],
      ["get/message", { user_id: "alice", conversation_id: null, message_limit_number: null }],
      ["get/message", { user_id: "alice", conversation_id: "c1", message_limit_number: 51 }],
      ["add/feedback", { feedback_content: null, user_id: "alice" }],
    ];
    for (const [path, body] of cases) {
      await failure(await client(path, body, overrides), 400, 40000);
    }
    await failure(await clientGet("x".repeat(129), overrides), 400, 40000);
    await failure(await clientGet("bad id", overrides), 400, 40000);
    expect(calls).toHaveLength(0);
  });
});

describe.each(BACKENDS)(
  "MemOS drop-in: a delete makes the same add be stored again (%s backend)",
  (kind, overrides) => {
    const payload = addPayload("alice", "c1", "Ich wohne in Köln");

    async function addTwiceThenDelete(remove: (id: string) => Promise<Response>) {
      const { calls } = upstreamFor(kind);
      const first = await client("add/message", payload, overrides);
      expect(first.headers.get("Idempotent-Replayed")).toBeNull();
      await success(first);
      const repeat = await client("add/message", payload, overrides);
      expect(repeat.headers.get("Idempotent-Replayed")).toBe("true");
      await success(repeat);
      const id = await idOf(overrides, "alice", "Ich wohne in Köln");
      expect((await success(await remove(id))).data.success).toBe(true);
      expect(await memoriesOf(overrides, "alice")).toEqual([]);

      const again = await client("add/message", payload, overrides);
      expect(again.headers.get("Idempotent-Replayed")).toBeNull();
      await success(again);
      if (kind === "cloud") {
        const adds = calls.filter((sent) => sent.url === `${MEMOS_BASE}/add/message`);
        expect(adds).toHaveLength(2);
      } else {
        const found = await success(
          await client("search/memory", { query: "Köln", user_id: "alice", memory_limit_number: 6 }, overrides),
        );
        expect(found.data.memory_detail_list.map((m: { memory_value: string }) => m.memory_value)).toEqual([
          "Ich wohne in Köln",
        ]);
      }
      expect((await memoriesOf(overrides, "alice")).map((m) => m.memory_value)).toEqual(["Ich wohne in Köln"]);
    }

    it("after delete_memory(memory_ids=[...])", () =>
      addTwiceThenDelete((id) => client("delete/memory", { memory_ids: [id] }, overrides)));
    it("after the legacy delete_memory(user_ids, memory_ids)", () =>
      addTwiceThenDelete((id) => client("delete/memory", { user_ids: ["alice"], memory_ids: [id] }, overrides)));
    it("after delete_memory(user_id=...)", () =>
      addTwiceThenDelete(() => client("delete/memory", { user_id: "alice" }, overrides)));

    it("an unreachable dedupe lock refuses the delete: MemOS 503 envelope, nothing deleted", async () => {
      const { calls } = upstreamFor(kind);
      await addVia(overrides, "alice", "c1", "keep me");
      const broken = {
        ...overrides,
        DEDUPE_LOCK: { getByName: () => ({ forget: () => Promise.reject(new Error("lock down")) }) },
      };
      const response = await client("delete/memory", { user_id: "alice" }, broken);
      await failure(response, 503, 50300);
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(await memoriesOf(overrides, "alice")).toHaveLength(1);
      expect(calls.some((sent) => sent.url.endsWith("/delete/memory"))).toBe(false);
    });
  },
);

describe("MemOS drop-in memory management on the cloud backend: what reached MemOS", () => {
  function expectRealKey(calls: UpstreamCall[]) {
    for (const sent of calls) expect(sent.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
  }

  it("forwards each call to the same MemOS path with the real key, and calls nothing else", async () => {
    const fake = fakeMemos();
    await addVia(CLOUD, "alice", "c1", "hello");
    const id = [...fake.memories.keys()][0]!;
    const start = fake.calls.length;

    await success(await client("get/memory", getMemoryPayload("alice", null, 2, 5), CLOUD));
    await success(await clientGet(id, CLOUD));
    await success(
      await client("update/memory", { memory_id: id, content: null, title: "Greeting", status: "archived" }, CLOUD),
    );
    await success(await client("get/status", { task_id: "task-1" }, CLOUD));
    await success(
      await client(
        "add/feedback",
        {
          feedback_content: "wrong",
          user_id: "alice",
          conversation_id: "c1",
          agent_id: null,
          app_id: null,
          feedback_time: null,
          allow_public: false,
          allow_knowledgebase_ids: null,
        },
        CLOUD,
      ),
    );
    await success(
      await client(
        "get/message",
        {
          user_id: "alice",
          conversation_id: "c1",
          conversation_limit_number: 6,
          message_limit_number: 6,
          source: null,
        },
        CLOUD,
      ),
    );
    await success(await client("delete/memory", { memory_ids: [id] }, CLOUD));
    await success(await client("delete/memory", { user_id: "alice" }, CLOUD));
    await success(await client("delete/memory", { agent_id: "bot", memory_type: "LongTermMemory" }, CLOUD));
    await success(await client("delete/memory", { filter: { conversation_id: "c1" } }, CLOUD));

    const sent = fake.calls.slice(start);
    expect(sent.map((one) => `${one.method} ${one.url}`)).toEqual([
      `POST ${MEMOS_BASE}/get/memory`,
      `GET ${MEMOS_BASE}/get/memory/${id}`,
      `POST ${MEMOS_BASE}/update/memory`,
      `POST ${MEMOS_BASE}/get/status`,
      `POST ${MEMOS_BASE}/add/feedback`,
      `POST ${MEMOS_BASE}/get/message`,
      `POST ${MEMOS_BASE}/delete/memory`,
      `POST ${MEMOS_BASE}/delete/memory`,
      `POST ${MEMOS_BASE}/delete/memory`,
      `POST ${MEMOS_BASE}/delete/memory`,
    ]);
    expect(sent.map((one) => one.body)).toEqual([
      // Unset keys the route does not know pass through as the client sent them; its own fields' nulls are dropped.
      {
        include_preference: true,
        user_id: "alice",
        include_tool_memory: true,
        include_memory_view: null,
        page: 2,
        size: 5,
      },
      "",
      { memory_id: id, title: "Greeting", status: "archived" },
      { task_id: "task-1" },
      { feedback_content: "wrong", user_id: "alice", conversation_id: "c1", allow_public: false },
      { user_id: "alice", conversation_id: "c1", conversation_limit_number: 6, message_limit_number: 6 },
      { memory_ids: [id] },
      { user_id: "alice" },
      { agent_id: "bot", memory_type: "LongTermMemory" },
      { filter: { conversation_id: "c1" } },
    ]);
    expectRealKey(sent);
  });

  it("the legacy delete by user_ids + memory_ids reads each id first and deletes only that user's", async () => {
    const fake = fakeMemos();
    await addVia(CLOUD, "alice", "c1", "alice's");
    await addVia(CLOUD, "bob", "c1", "bob's");
    const [aliceId, bobId] = [...fake.memories.keys()];
    const start = fake.calls.length;
    await success(await client("delete/memory", { user_ids: ["alice"], memory_ids: [aliceId, bobId] }, CLOUD));
    const sent = fake.calls.slice(start);
    expect(sent.filter((one) => one.method === "GET").map((one) => one.url)).toEqual(
      expect.arrayContaining([`${MEMOS_BASE}/get/memory/${aliceId}`, `${MEMOS_BASE}/get/memory/${bobId}`]),
    );
    expect(sent.filter((one) => one.method === "POST").map((one) => [one.url, one.body])).toEqual([
      [`${MEMOS_BASE}/delete/memory`, { memory_ids: [aliceId] }],
    ]);
    expect([...fake.memories.keys()]).toEqual([bobId]);
    expectRealKey(sent);
  });

  it("GET get/memory/{id}: the percent-encoded id reaches MemOS encoded once, and a sparse answer passes", async () => {
    const upstream = mockMemos(() => memosOk({ id: "team:mem@1", memory_type: "LongTermMemory" }));
    const response = await call(
      `${PREFIX}/get/memory/team%3Amem%401`,
      { method: "GET", headers: { "Content-Type": "application/json", Authorization: `Token ${TOKEN}` } },
      CLOUD,
    );
    const { data } = await success(response);
    expect(data).toEqual({ id: "team:mem@1", memory_type: "LongTermMemory" });
    expect(upstream.map((one) => [one.method, one.url])).toEqual([["GET", `${MEMOS_BASE}/get/memory/team%3Amem%401`]]);
    expectRealKey(upstream);
  });

  it("get_task_status: MemOS's one-item list and its object both become {task_id, status}", async () => {
    for (const data of [[{ status: "completed" }], { task_id: "t-1", status: "completed" }]) {
      mockMemos(() => memosOk(data));
      const answer = await success(await client("get/status", { task_id: "t-1" }, CLOUD));
      expect(answer.data).toEqual({ task_id: "t-1", status: "completed" });
    }
  });

  it("MemOS's answer for an unknown memory (404, or data null) is a 404 here too", async () => {
    const fake = fakeMemos();
    await failure(await clientGet("gone", CLOUD), 404, 40400);
    fake.unknownId = "null";
    await failure(await clientGet("gone", CLOUD), 404, 40400);
  });

  it("get_message: message_detail_list is an array even when MemOS leaves it out", async () => {
    mockMemos(() => memosOk({}));
    const { data } = await success(
      await client("get/message", { user_id: "alice", conversation_id: "c1", message_limit_number: null }, CLOUD),
    );
    expect(data.message_detail_list).toEqual([]);
  });

  it("a MemOS refusal keeps MemOS's envelope and HTTP status", async () => {
    mockMemos(() => Response.json({ code: 40001, message: "user_id is invalid", data: null }, { status: 400 }));
    const answer = await failure(await client("get/memory", getMemoryPayload("alice"), CLOUD), 400, 40001);
    expect(answer.message).toBe("user_id is invalid");
  });
});

describe("MemOS drop-in memory management, embedded store specifics", () => {
  it("an update is searchable at once and the old text is no longer found; archived hides it", async () => {
    mockMemos(() => new Response("must not be called", { status: 500 }));
    await addVia(LOCAL, "alice", "c1", "My favourite fruit is mango");
    const id = await idOf(LOCAL, "alice", "My favourite fruit is mango");
    const search = async (query: string) => {
      const { data } = await success(
        await client("search/memory", { query, user_id: "alice", memory_limit_number: 6 }, LOCAL),
      );
      return data.memory_detail_list.map((m: { memory_value: string }) => m.memory_value);
    };
    await success(
      await client(
        "update/memory",
        { memory_id: id, content: "My favourite fruit is papaya", title: null, status: null },
        LOCAL,
      ),
    );
    expect(await search("papaya")).toEqual(["My favourite fruit is papaya"]);
    expect(await search("mango")).toEqual([]);
    await success(
      await client("update/memory", { memory_id: id, content: null, title: null, status: "archived" }, LOCAL),
    );
    expect(await search("papaya")).toEqual([]);
    expect((await success(await clientGet(id, LOCAL))).data).toMatchObject({ status: "archived" });
  });

  it("feedback is stored as a memory of its own, tagged feedback, found by search", async () => {
    await addVia(LOCAL, "alice", "c1", "I live in Porto");
    await success(
      await client(
        "add/feedback",
        {
          feedback_content: "Correction: I moved to Lisbon",
          user_id: "alice",
          conversation_id: "c1",
          allow_public: false,
        },
        LOCAL,
      ),
    );
    const { data } = await success(
      await client("search/memory", { query: "Lisbon", user_id: "alice", memory_limit_number: 6 }, LOCAL),
    );
    expect(data.memory_detail_list).toHaveLength(1);
    expect(data.memory_detail_list[0]).toMatchObject({ memory_value: "Correction: I moved to Lisbon" });
    const id = await idOf(LOCAL, "alice", "Correction: I moved to Lisbon");
    expect((await success(await clientGet(id, LOCAL))).data).toMatchObject({
      tags: ["feedback"],
      conversation_id: "c1",
    });
  });

  it("a delete by filter alone is refused (400), and nothing is deleted", async () => {
    await addVia(LOCAL, "alice", "c1", "keep me");
    await failure(await client("delete/memory", { filter: { conversation_id: "c1" } }, LOCAL), 400, 40000);
    expect(await memoriesOf(LOCAL, "alice")).toHaveLength(1);
  });
});
