/**
 * Issue 16, the webhook surface: /v1/list, /v1/get, /v1/delete, /v1/forget,
 * /v1/update, /v1/status, /v1/feedback and /v1/messages on both backends.
 * The cloud backend talks to a fake MemOS at the fetch boundary (`fakeMemos`,
 * which keeps what is added); the embedded one is the real D1 store. Before
 * issue 16 every one of these routes was a 404.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  CLOUD,
  LOCAL,
  MEMOS_BASE,
  MEMOS_KEY,
  call,
  authed,
  fakeMemos,
  json,
  mockMemos,
  postJson,
  BACKENDS,
  upstreamFor,
  type UpstreamCall,
  type EnvOverrides,
} from "./helpers";

async function ok(path: string, body: unknown, overrides: EnvOverrides) {
  const response = await postJson(path, body, overrides);
  const answer = await json(response);
  expect(response.status, JSON.stringify(answer)).toBe(200);
  expect(answer.ok).toBe(true);
  expect(typeof answer.text).toBe("string");
  return answer;
}

interface Listed {
  id: string;
  content: string;
  conversation_id: string | null;
}

async function list(overrides: EnvOverrides, userId: string, extra: Record<string, unknown> = {}) {
  const answer = await ok("/v1/list", { user_id: userId, size: 50, ...extra }, overrides);
  return answer as Record<string, unknown> & { memories: Listed[]; total: number };
}

async function contents(overrides: EnvOverrides, userId: string): Promise<string[]> {
  return (await list(overrides, userId)).memories.map((memory) => memory.content);
}

async function idOf(overrides: EnvOverrides, userId: string, content: string): Promise<string> {
  const found = (await list(overrides, userId)).memories.find((memory) => memory.content === content);
  expect(found, `${userId} has "${content}"`).toBeDefined();
  return found!.id;
}

const paths = (calls: UpstreamCall[]) => calls.map((sent) => `${sent.method} ${sent.url.slice(MEMOS_BASE.length)}`);

describe.each(BACKENDS)("/v1 memory management (%s backend)", (kind, overrides) => {
  const add = (body: Record<string, unknown>) => ok("/v1/add", body, overrides);

  it("lists a user's memories newest first, paged, with an exact total", async () => {
    const { calls } = upstreamFor(kind);
    for (const fact of ["first fact", "second fact", "third fact"]) await add({ user_id: "alice", user_message: fact });
    await add({ user_id: "bob", user_message: "bob's fact" });

    const first = await ok("/v1/list", { user_id: "alice", size: 2 }, overrides);
    expect(first).toMatchObject({ count: 2, total: 3, page: 1, size: 2, pages: 2 });
    expect((first.memories as Listed[]).map((memory) => memory.content)).toEqual(["third fact", "second fact"]);
    expect(first.text).toMatch(/^3 memories for alice; page 1 of 2\./);
    expect(first.text).toContain("third fact");
    const second = await ok("/v1/list", { user_id: "alice", size: 2, page: 2 }, overrides);
    expect(second).toMatchObject({ count: 1, total: 3, page: 2, pages: 2 });
    expect((second.memories as Listed[]).map((memory) => memory.content)).toEqual(["first fact"]);

    const nobody = await ok("/v1/list", { user_id: "nobody" }, overrides);
    expect(nobody).toMatchObject({ memories: [], count: 0, total: 0, page: 1, size: 10 });
    if (kind === "cloud") {
      expect(calls.at(-1)?.body).toEqual({ user_id: "nobody", page: 1, size: 10 });
    } else {
      expect(calls).toHaveLength(0);
    }
  });

  it("reads one memory, and another user's id is not found when the user is named", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", conversation_id: "c1", user_message: "I live in Porto" });
    const id = await idOf(overrides, "alice", "I live in Porto");

    const read = await ok("/v1/get", { memory_id: id }, overrides);
    expect(read.memory).toMatchObject({
      id,
      content: "I live in Porto",
      user_id: "alice",
      conversation_id: "c1",
      status: "activated",
    });
    expect(read.text).toContain("I live in Porto");
    expect(await ok("/v1/get", { memory_id: id, user_id: "alice" }, overrides)).toMatchObject({ memory: { id } });

    for (const body of [{ memory_id: id, user_id: "bob" }, { memory_id: "no-such-memory" }]) {
      const refused = await postJson("/v1/get", body, overrides);
      expect(refused.status).toBe(404);
      expect(await json(refused)).toMatchObject({ ok: false, error: { code: "not_found", field: "memory_id" } });
    }
  });

  it("deletes by ids, then deleting again is a success (idempotent), never a 500", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", user_message: "keep me" });
    await add({ user_id: "alice", user_message: "drop me" });
    const id = await idOf(overrides, "alice", "drop me");

    expect(await ok("/v1/delete", { memory_ids: [id] }, overrides)).toMatchObject({ deleted: 1 });
    expect(await contents(overrides, "alice")).toEqual(["keep me"]);
    // MemOS reports no count, so the cloud answer counts the ids it was asked to delete.
    const again = await ok("/v1/delete", { memory_ids: [id] }, overrides);
    if (kind === "embedded") expect(again).toMatchObject({ deleted: 0 });
    // Named with the user, ids are checked first: the count is exact on both backends.
    expect(await ok("/v1/delete", { memory_ids: [id], user_id: "alice" }, overrides)).toMatchObject({ deleted: 0 });
    expect(await contents(overrides, "alice")).toEqual(["keep me"]);
  });

  it("deletes ids sent as a form field, comma-separated", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", user_message: "one" });
    await add({ user_id: "alice", user_message: "two" });
    await add({ user_id: "alice", user_message: "three" });
    const ids = [await idOf(overrides, "alice", "one"), await idOf(overrides, "alice", "three")];
    const response = await call(
      "/v1/delete",
      {
        method: "POST",
        headers: authed({ "Content-Type": "application/x-www-form-urlencoded" }),
        body: new URLSearchParams({ memory_ids: ids.join(", "), user_id: "alice" }).toString(),
      },
      overrides,
    );
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ ok: true, deleted: 2 });
    expect(await contents(overrides, "alice")).toEqual(["two"]);
  });

  it("does not touch another user's id when the user is named (delete and update)", async () => {
    const { calls } = upstreamFor(kind);
    await add({ user_id: "alice", user_message: "alice's secret" });
    await add({ user_id: "bob", user_message: "bob's note" });
    const aliceId = await idOf(overrides, "alice", "alice's secret");
    const bobId = await idOf(overrides, "bob", "bob's note");
    const before = calls.length;

    const deleted = await ok("/v1/delete", { memory_ids: [aliceId, bobId], user_id: "bob" }, overrides);
    expect(deleted).toMatchObject({ deleted: 1 });
    expect(await contents(overrides, "alice")).toEqual(["alice's secret"]);
    expect(await contents(overrides, "bob")).toEqual([]);

    const update = await postJson("/v1/update", { memory_id: aliceId, user_id: "bob", content: "hijacked" }, overrides);
    expect(update.status).toBe(404);
    expect(await json(update)).toMatchObject({ ok: false, error: { code: "not_found", field: "memory_id" } });
    expect(await contents(overrides, "alice")).toEqual(["alice's secret"]);

    if (kind === "cloud") {
      const sent = calls.slice(before);
      // Each id read first; only bob's reached delete/memory; the refused update never reached update/memory.
      const deletes = sent.filter((one) => one.url === `${MEMOS_BASE}/delete/memory`);
      expect(deletes.map((one) => one.body)).toEqual([{ memory_ids: [bobId] }]);
      expect(sent.some((one) => one.url.endsWith("/update/memory"))).toBe(false);
      expect(sent.filter((one) => one.method === "GET").map((one) => one.url)).toEqual(
        expect.arrayContaining([`${MEMOS_BASE}/get/memory/${aliceId}`, `${MEMOS_BASE}/get/memory/${bobId}`]),
      );
    }
  });

  it("deletes one conversation of a user, and nothing of another conversation or user", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", conversation_id: "c1", user_message: "c1 question", assistant_message: "c1 answer" });
    await add({ user_id: "alice", conversation_id: "c2", user_message: "c2 question" });
    await add({ user_id: "bob", conversation_id: "c1", user_message: "bob in c1" });

    const answer = await ok("/v1/delete", { user_id: "alice", conversation_id: "c1" }, overrides);
    expect(answer).toMatchObject({ deleted: 2 });
    expect(answer.text).toContain("conversation c1 of alice");
    expect(await contents(overrides, "alice")).toEqual(["c2 question"]);
    expect(await contents(overrides, "bob")).toEqual(["bob in c1"]);

    const missingUser = await postJson("/v1/delete", { conversation_id: "c1" }, overrides);
    expect(missingUser.status).toBe(400);
    expect(await json(missingUser)).toMatchObject({ ok: false, error: { code: "invalid_request", field: "user_id" } });
  });

  it("deletes everything an agent remembers", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", agent_id: "travel-bot", user_message: "trip to Lisbon" });
    await add({ user_id: "alice", user_message: "no agent here" });
    expect(await ok("/v1/delete", { agent_id: "travel-bot" }, overrides)).toMatchObject({ ok: true });
    expect(await contents(overrides, "alice")).toEqual(["no agent here"]);
  });

  it("forget: a dry run counts and deletes nothing; the real one deletes all of the user and nothing else", async () => {
    const { calls } = upstreamFor(kind);
    for (const fact of ["a", "b", "c"]) await add({ user_id: "alice", user_message: `fact ${fact}` });
    await add({ user_id: "bob", user_message: "bob stays" });
    const before = calls.length;

    const dry = await ok("/v1/forget", { user_id: "alice", dry_run: "true" }, overrides);
    expect(dry).toMatchObject({ dry_run: true, would_delete: 3 });
    expect(dry.text).toBe("Dry run: 3 memories of alice would be deleted. Nothing was deleted.");
    expect((await list(overrides, "alice")).total).toBe(3);
    if (kind === "cloud") expect(calls.slice(before).some((one) => one.url.endsWith("/delete/memory"))).toBe(false);

    const real = await ok("/v1/forget", { user_id: "alice" }, overrides);
    expect(real).toMatchObject({ dry_run: false });
    if (kind === "embedded") expect(real).toMatchObject({ deleted: 3 });
    expect(real.text).toMatch(/^Forgot everything about alice/);
    expect((await list(overrides, "alice")).total).toBe(0);
    expect(await contents(overrides, "bob")).toEqual(["bob stays"]);
    // Forgetting again is still a success.
    await ok("/v1/forget", { user_id: "alice" }, overrides);
  });

  it("updates a memory (and refuses an update that changes nothing)", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", user_message: "I live in Porto" });
    const id = await idOf(overrides, "alice", "I live in Porto");
    const updated = await ok("/v1/update", { memory_id: id, user_id: "alice", content: "I live in Lisbon" }, overrides);
    expect(updated).toMatchObject({ memory_id: id, text: `Updated memory ${id}.` });
    expect(await ok("/v1/get", { memory_id: id }, overrides)).toMatchObject({
      memory: { content: "I live in Lisbon" },
    });

    const empty = await postJson("/v1/update", { memory_id: id, content: "", title: null }, overrides);
    expect(empty.status).toBe(400);
    expect(await json(empty)).toMatchObject({ ok: false, error: { code: "invalid_request", field: "content" } });
  });

  it("answers an add's task status, and 404 for an unknown task", async () => {
    upstreamFor(kind);
    const added = await add({ user_id: "alice", user_message: "status please" });
    expect(typeof added.task_id).toBe("string");
    const status = await ok("/v1/status", { task_id: added.task_id }, overrides);
    expect(status).toMatchObject({ task_id: added.task_id, status: kind === "cloud" ? "running" : "completed" });
    expect(status.text).toBe(`Task ${String(added.task_id)} is ${String(status.status)}.`);

    const unknown = await postJson("/v1/status", { task_id: "task-unknown" }, overrides);
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("records feedback and answers its task", async () => {
    const { calls } = upstreamFor(kind);
    const answer = await ok(
      "/v1/feedback",
      { user_id: "alice", conversation_id: "c1", feedback: "Actually I moved to Lisbon." },
      overrides,
    );
    expect(typeof answer.task_id).toBe("string");
    expect(typeof answer.status).toBe("string");
    expect(answer.text).toBe("Feedback for alice recorded.");
    if (kind === "cloud") {
      expect(calls.at(-1)).toMatchObject({
        url: `${MEMOS_BASE}/add/feedback`,
        body: { user_id: "alice", conversation_id: "c1", feedback_content: "Actually I moved to Lisbon." },
      });
    }
  });

  it("answers a conversation's newest messages in the order they were said", async () => {
    upstreamFor(kind);
    await add({ user_id: "alice", conversation_id: "c1", user_message: "m1", assistant_message: "m2" });
    await add({ user_id: "alice", conversation_id: "c1", user_message: "m3", assistant_message: "m4" });
    await add({ user_id: "alice", conversation_id: "c2", user_message: "other conversation" });
    const answer = await ok("/v1/messages", { user_id: "alice", conversation_id: "c1", limit: 3 }, overrides);
    expect(answer).toMatchObject({ count: 3 });
    expect((answer.messages as { role: string; content: string }[]).map((m) => [m.role, m.content])).toEqual([
      ["assistant", "m2"],
      ["user", "m3"],
      ["assistant", "m4"],
    ]);
    expect(answer.text).toBe("assistant: m2\nuser: m3\nassistant: m4");
  });

  it("refuses bad ids before any call: too long, bad characters, an empty list", async () => {
    const { calls } = upstreamFor(kind);
    const cases: [string, Record<string, unknown>, string][] = [
      ["/v1/delete", { memory_ids: ["x".repeat(129)] }, "memory_ids"],
      ["/v1/delete", { memory_ids: ["bad id!"] }, "memory_ids"],
      ["/v1/delete", { memory_ids: ["../etc/passwd"] }, "memory_ids"],
      ["/v1/delete", { memory_ids: [] }, "memory_ids"],
      ["/v1/delete", { memory_ids: "[]" }, "memory_ids"],
      ["/v1/get", { memory_id: "a/b" }, "memory_id"],
      ["/v1/get", { memory_id: "x".repeat(129) }, "memory_id"],
      ["/v1/update", { memory_id: "bad id", content: "x" }, "memory_id"],
      ["/v1/status", { task_id: "task?id=1" }, "task_id"],
      ["/v1/delete", {}, "memory_ids"],
      ["/v1/delete", { memory_ids: ["a"], agent_id: "b" }, "memory_ids"],
    ];
    for (const [path, body, field] of cases) {
      const response = await postJson(path, body, overrides);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      const answer = (await json(response)) as { ok: boolean; error: { code: string; field: string } };
      expect(answer).toMatchObject({ ok: false, error: { code: "invalid_request" } });
      // A bad item is named by its place in the list (memory_ids.0).
      expect(answer.error.field.split(".")[0]).toBe(field);
    }
    expect(calls).toHaveLength(0);
  });
});

describe.each(BACKENDS)("/v1: a delete makes the same add be stored again (%s backend)", (kind, overrides) => {
  const turn = { user_id: "alice", conversation_id: "c1", user_message: "I live in Porto" };

  async function addTwiceThenDelete(remove: (id: string) => Promise<unknown>) {
    const { calls } = upstreamFor(kind);
    expect(await ok("/v1/add", turn, overrides)).toMatchObject({ deduplicated: false });
    expect(await ok("/v1/add", turn, overrides)).toMatchObject({ deduplicated: true });
    const id = await idOf(overrides, "alice", "I live in Porto");
    await remove(id);
    expect(await contents(overrides, "alice")).toEqual([]);
    const again = await ok("/v1/add", turn, overrides);
    expect(again).toMatchObject({ deduplicated: false });
    expect(again.text).toMatch(/^Added 1 message/);
    if (kind === "cloud") {
      expect(calls.filter((sent) => sent.url === `${MEMOS_BASE}/add/message`)).toHaveLength(2);
    } else {
      const found = await ok("/v1/search", { user_id: "alice", query: "Porto" }, overrides);
      expect((found.memories as Listed[]).map((memory) => memory.content)).toEqual(["I live in Porto"]);
    }
    expect(await contents(overrides, "alice")).toEqual(["I live in Porto"]);
  }

  it("after a delete by ids", () => addTwiceThenDelete((id) => ok("/v1/delete", { memory_ids: [id] }, overrides)));
  it("after a delete by ids named with the user", () =>
    addTwiceThenDelete((id) => ok("/v1/delete", { memory_ids: [id], user_id: "alice" }, overrides)));
  it("after forgetting the user", () => addTwiceThenDelete(() => ok("/v1/forget", { user_id: "alice" }, overrides)));
  it("after a delete of the conversation", () =>
    addTwiceThenDelete(() => ok("/v1/delete", { user_id: "alice", conversation_id: "c1" }, overrides)));

  it("after a delete by agent", async () => {
    const { calls } = upstreamFor(kind);
    const agentTurn = { ...turn, agent_id: "travel-bot" };
    await ok("/v1/add", agentTurn, overrides);
    expect(await ok("/v1/add", agentTurn, overrides)).toMatchObject({ deduplicated: true });
    await ok("/v1/delete", { agent_id: "travel-bot" }, overrides);
    expect(await ok("/v1/add", agentTurn, overrides)).toMatchObject({ deduplicated: false });
    if (kind === "cloud") expect(calls.filter((sent) => sent.url.endsWith("/add/message"))).toHaveLength(2);
    expect(await contents(overrides, "alice")).toEqual(["I live in Porto"]);
  });

  it("a dry run forgets no add: the repeat is still replayed", async () => {
    upstreamFor(kind);
    await ok("/v1/add", turn, overrides);
    await ok("/v1/forget", { user_id: "alice", dry_run: true }, overrides);
    expect(await ok("/v1/add", turn, overrides)).toMatchObject({ deduplicated: true });
  });

  it("also when the lock cannot be reached at the re-add: KV's record is older than the delete", async () => {
    upstreamFor(kind);
    await ok("/v1/add", turn, overrides);
    expect(await ok("/v1/add", turn, overrides)).toMatchObject({ deduplicated: true });
    await ok("/v1/forget", { user_id: "alice" }, overrides);
    const unreachable = {
      getByName: () => ({
        claim: () => Promise.reject(new Error("lock down")),
        complete: () => Promise.reject(new Error("lock down")),
        release: () => Promise.reject(new Error("lock down")),
      }),
    };
    const again = await ok("/v1/add", turn, { ...overrides, DEDUPE_LOCK: unreachable });
    expect(again).toMatchObject({ deduplicated: false });
    expect(await contents(overrides, "alice")).toEqual(["I live in Porto"]);
  });

  it("an unreachable dedupe lock refuses the delete (503 dedupe_unavailable) and deletes nothing", async () => {
    const { calls } = upstreamFor(kind);
    await ok("/v1/add", turn, overrides);
    const id = await idOf(overrides, "alice", "I live in Porto");
    const broken = {
      ...overrides,
      DEDUPE_LOCK: { getByName: () => ({ forget: () => Promise.reject(new Error("lock down")) }) },
    };
    for (const [path, body] of [
      ["/v1/delete", { memory_ids: [id] }],
      ["/v1/delete", { user_id: "alice", conversation_id: "c1" }],
      ["/v1/forget", { user_id: "alice" }],
    ] as const) {
      const response = await postJson(path, body, broken);
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(await json(response)).toMatchObject({ ok: false, error: { code: "dedupe_unavailable" } });
    }
    expect(await contents(overrides, "alice")).toEqual(["I live in Porto"]);
    expect(calls.some((sent) => sent.url.endsWith("/delete/memory"))).toBe(false);
  });
});

describe("/v1 memory management on the cloud backend: what reached MemOS", () => {
  it("each call goes to its own MemOS path with the real key, and to no other path", async () => {
    const fake = fakeMemos();
    await ok("/v1/add", { user_id: "alice", conversation_id: "c1", user_message: "hello" }, CLOUD);
    const id = [...fake.memories.keys()][0]!;
    fake.tasks.set("task-9", "completed");
    const start = fake.calls.length;

    await ok("/v1/list", { user_id: "alice", page: 2, size: 5, agent_id: "bot", tags: "x" }, CLOUD);
    await ok("/v1/get", { memory_id: id }, CLOUD);
    await ok("/v1/update", { memory_id: id, title: "Greeting" }, CLOUD);
    await ok("/v1/status", { task_id: "task-9" }, CLOUD);
    await ok("/v1/feedback", { user_id: "alice", feedback: "wrong city" }, CLOUD);
    await ok("/v1/messages", { user_id: "alice", conversation_id: "c1" }, CLOUD);
    await ok("/v1/delete", { memory_ids: [id] }, CLOUD);
    await ok("/v1/delete", { agent_id: "bot" }, CLOUD);
    await ok("/v1/forget", { user_id: "alice", dry_run: "true" }, CLOUD);
    await ok("/v1/forget", { user_id: "alice" }, CLOUD);

    const sent = fake.calls.slice(start);
    expect(paths(sent)).toEqual([
      "POST /get/memory",
      `GET /get/memory/${id}`,
      "POST /update/memory",
      "POST /get/status",
      "POST /add/feedback",
      "POST /get/message",
      "POST /delete/memory",
      "POST /delete/memory",
      "POST /get/memory",
      "POST /delete/memory",
    ]);
    expect(sent.map((one) => one.body)).toEqual([
      { user_id: "alice", page: 2, size: 5, filter: { and: [{ agent_id: "bot" }, { tags: { contains: "x" } }] } },
      "",
      { memory_id: id, title: "Greeting" },
      { task_id: "task-9" },
      { user_id: "alice", feedback_content: "wrong city" },
      { user_id: "alice", conversation_id: "c1", message_limit_number: 6 },
      { memory_ids: [id] },
      { agent_id: "bot" },
      { user_id: "alice", page: 1, size: 1 },
      { user_id: "alice" },
    ]);
    for (const one of sent) {
      expect(one.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    }
  });

  it("keeps the /v1 error shape for MemOS failures", async () => {
    mockMemos(() => Response.json({ code: 50000, message: "boom", data: null }, { status: 500 }));
    const response = await postJson("/v1/list", { user_id: "alice" }, CLOUD);
    expect(response.status).toBe(502);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "upstream_error" } });
  });
});

describe("/v1 memory management, embedded store specifics", () => {
  const add = (body: Record<string, unknown>) => ok("/v1/add", body, LOCAL);
  const search = async (userId: string, query: string) =>
    ((await ok("/v1/search", { user_id: userId, query }, LOCAL)).memories as Listed[]).map((m) => m.content);

  it("an edited memory is found by its new text and no longer by its old one (the FTS index follows)", async () => {
    mockMemos(() => new Response("must not be called", { status: 500 }));
    await add({ user_id: "alice", user_message: "My favourite fruit is mango" });
    const id = await idOf(LOCAL, "alice", "My favourite fruit is mango");
    expect(await search("alice", "mango")).toEqual(["My favourite fruit is mango"]);
    await ok("/v1/update", { memory_id: id, content: "My favourite fruit is papaya" }, LOCAL);
    expect(await search("alice", "papaya")).toEqual(["My favourite fruit is papaya"]);
    expect(await search("alice", "mango")).toEqual([]);
  });

  it("an archived memory is kept but not recalled", async () => {
    await add({ user_id: "alice", user_message: "temporary address in Faro" });
    const id = await idOf(LOCAL, "alice", "temporary address in Faro");
    await ok("/v1/update", { memory_id: id, status: "archived" }, LOCAL);
    expect(await search("alice", "Faro")).toEqual([]);
    expect(await ok("/v1/get", { memory_id: id }, LOCAL)).toMatchObject({ memory: { status: "archived" } });
  });

  it("an update of an unknown id is 404 not_found", async () => {
    const response = await postJson("/v1/update", { memory_id: "no-such-memory", content: "x" }, LOCAL);
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "not_found", field: "memory_id" } });
  });

  it("feedback is stored as a memory of its own, tagged feedback, and found by search", async () => {
    await add({ user_id: "alice", conversation_id: "c1", user_message: "I live in Porto" });
    const answer = await ok(
      "/v1/feedback",
      { user_id: "alice", conversation_id: "c1", feedback: "Correction: I moved to Lisbon" },
      LOCAL,
    );
    expect(answer).toMatchObject({ status: "completed" });
    expect(await ok("/v1/status", { task_id: answer.task_id }, LOCAL)).toMatchObject({ status: "completed" });
    expect(await search("alice", "Lisbon")).toEqual(["Correction: I moved to Lisbon"]);
    const id = await idOf(LOCAL, "alice", "Correction: I moved to Lisbon");
    expect(await ok("/v1/get", { memory_id: id }, LOCAL)).toMatchObject({
      memory: { tags: ["feedback"], conversation_id: "c1", user_id: "alice" },
    });
    // Feedback is no message of the conversation.
    const messages = await ok("/v1/messages", { user_id: "alice", conversation_id: "c1" }, LOCAL);
    expect((messages.messages as { content: string }[]).map((m) => m.content)).toEqual(["I live in Porto"]);
  });

  it("a delete leaves the rows of other users and the FTS index consistent", async () => {
    await add({ user_id: "alice", user_message: "shared word zebra" });
    await add({ user_id: "bob", user_message: "shared word zebra too" });
    await ok("/v1/forget", { user_id: "alice" }, LOCAL);
    expect(await search("alice", "zebra")).toEqual([]);
    expect(await search("bob", "zebra")).toEqual(["shared word zebra too"]);
    const { results } = await env.MEMORY_DB.prepare("SELECT user_id FROM memories").all<{ user_id: string }>();
    expect(results).toEqual([{ user_id: "bob" }]);
  });
});

describe("forgetting a long history on the embedded store", () => {
  it("deletes every memory of a user with more rows than one delete statement takes, and nothing of others", async () => {
    const messages = Array.from({ length: 100 }, (_, i) => ({ role: "user", content: `fact number ${i}` }));
    for (let add = 0; add < 6; add++) {
      const response = await postJson("/v1/add", { user_id: "long", conversation_id: `c${add}`, messages }, LOCAL);
      expect(response.status).toBe(200);
    }
    await postJson("/v1/add", { user_id: "other", user_message: "keep me" }, LOCAL);
    const forgotten = await postJson("/v1/forget", { user_id: "long" }, LOCAL);
    expect(await json(forgotten)).toMatchObject({ ok: true, deleted: 600 });
    expect(await json(await postJson("/v1/list", { user_id: "long" }, LOCAL))).toMatchObject({ total: 0 });
    expect(await json(await postJson("/v1/list", { user_id: "other" }, LOCAL))).toMatchObject({ total: 1 });
  });
});
