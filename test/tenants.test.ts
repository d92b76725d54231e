/**
 * Tenants and scopes (README "Tenants and scopes"): two tenants whose users
 * share ids never see, delete or dedupe each other's memories, on every
 * surface and backend; scopes are enforced per route; a bad TENANTS fails closed.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CLOUD, LOCAL, MEMOS_BASE, MEMOS_KEY, addAccepted, call, json, memosOk, mockMemos } from "./helpers";
import { callTool, connect, textOf } from "./mcp-client";

const GLOBEX_KEY = "mk-globex-key-987654321";
const GLOBEX_BASE = "https://globex.memos.example/api/openmem/v1";
const TENANTS = JSON.stringify({
  acme: {
    tokens: {
      "tok-acme-admin": ["read", "write", "delete"],
      "tok-acme-rotated": ["read", "write", "delete"],
      "tok-acme-kb": ["read"],
    },
  },
  globex: {
    tokens: { "tok-globex": ["read", "write", "delete"] },
    memos_api_key: GLOBEX_KEY,
    memos_base_url: GLOBEX_BASE,
  },
});

/** The same tenants, neither bringing a MemOS key: both on the embedded store. */
const TENANTS_EMBEDDED = JSON.stringify({
  acme: JSON.parse(TENANTS).acme,
  globex: { tokens: { "tok-globex": ["read", "write", "delete"] } },
});

const local = { ...LOCAL, TENANTS: TENANTS_EMBEDDED, RATE_LIMITER: undefined };
const cloud = { ...CLOUD, TENANTS, RATE_LIMITER: undefined };

function as(token: string, path: string, body: unknown, overrides: Record<string, unknown> = local) {
  return call(
    path,
    {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    },
    overrides,
  );
}

async function searchText(token: string, user: string, overrides = local): Promise<string> {
  const response = await as(token, "/v1/search", { user_id: user, query: "secret" }, overrides);
  expect(response.status).toBe(200);
  return String((await json(response)).text);
}

describe("two tenants with colliding user ids, embedded store", () => {
  it("never shows one tenant's memory to another, nor to the shared space, on any surface", async () => {
    expect((await as("tok-acme-admin", "/v1/add", { user_id: "alice", user_message: "acme secret plan" })).status).toBe(
      200,
    );
    expect((await as("tok-globex", "/v1/add", { user_id: "alice", user_message: "globex secret plan" })).status).toBe(
      200,
    );

    expect(await searchText("tok-acme-admin", "alice")).toContain("acme secret plan");
    expect(await searchText("tok-acme-admin", "alice")).not.toContain("globex");
    expect(await searchText("tok-globex", "alice")).not.toContain("acme");
    expect(await searchText("test-token", "alice")).not.toMatch(/acme|globex/);

    const compat = await as("tok-globex", "/api/openmem/v1/search/memory", { user_id: "alice", query: "secret" });
    expect(JSON.stringify(await json(compat))).not.toContain("acme");
    const retrieval = await as("tok-globex", "/dify/retrieval", { knowledge_id: "alice", query: "secret" });
    expect(JSON.stringify(await json(retrieval))).not.toContain("acme");
    const listed = await as("tok-globex", "/v1/list", { user_id: "alice" });
    expect(await json(listed)).toMatchObject({ total: 1 });

    const mcp = await connect({
      query: "?user_id=alice",
      headers: { Authorization: "Bearer tok-globex" },
      overrides: local,
    });
    const found = await callTool(mcp, "search_memory", { query: "secret" });
    expect(textOf(found)).toContain("globex secret plan");
    expect(textOf(found)).not.toContain("acme");
    await mcp.close();
  });

  it("never deletes another tenant's memory: not by user, not by id", async () => {
    await as("tok-acme-admin", "/v1/add", { user_id: "alice", user_message: "acme secret plan" });
    await as("tok-globex", "/v1/add", { user_id: "alice", user_message: "globex secret plan" });
    const acmeList = (await json(await as("tok-acme-admin", "/v1/list", { user_id: "alice" }))) as {
      memories: { id: string }[];
    };
    const acmeId = acmeList.memories[0]?.id ?? "";

    expect((await as("tok-globex", "/v1/get", { memory_id: acmeId })).status).toBe(404);
    expect(await json(await as("tok-globex", "/v1/delete", { memory_ids: [acmeId] }))).toMatchObject({ deleted: 0 });
    expect((await as("tok-globex", "/api/openmem/v1/delete/memory", { memory_ids: [acmeId] })).status).toBe(200);
    expect((await as("tok-globex", "/v1/update", { memory_id: acmeId, content: "hijacked" })).status).toBe(404);
    expect(await json(await as("tok-globex", "/v1/forget", { user_id: "alice" }))).toMatchObject({ deleted: 1 });

    expect(await searchText("tok-acme-admin", "alice")).toContain("acme secret plan");
    expect((await as("tok-acme-admin", "/v1/get", { memory_id: acmeId })).status).toBe(200);
  });

  it("marks each row with its tenant; rows from before tenants belong to the shared space", async () => {
    await as("tok-acme-admin", "/v1/add", { user_id: "bob", user_message: "hello" });
    await as("test-token", "/v1/add", { user_id: "bob", user_message: "hello" });
    const rows = await env.MEMORY_DB.prepare("SELECT tenant, user_id FROM memories ORDER BY tenant").all();
    expect(rows.results).toEqual([
      { tenant: "", user_id: "bob" },
      { tenant: "acme", user_id: "acme__bob" },
    ]);
  });
});

describe("two tenants on MemOS cloud", () => {
  it("prefixes user ids towards MemOS, uses a tenant's own key and URL, and shows callers their own ids", async () => {
    const upstream = mockMemos((request) =>
      request.url.endsWith("/add/message")
        ? addAccepted()
        : memosOk({
            memory_detail_list: [{ id: "m1", memory_value: "likes tea", user_id: "acme__alice", relativity: 0.9 }],
          }),
    );
    await as("tok-acme-admin", "/v1/add", { user_id: "alice", user_message: "likes tea" }, cloud);
    await as("tok-globex", "/v1/add", { user_id: "alice", user_message: "likes tea" }, cloud);
    const compat = await as(
      "tok-acme-admin",
      "/api/openmem/v1/search/memory",
      { user_id: "alice", query: "tea" },
      cloud,
    );

    expect(upstream.map((sent) => [sent.url, (sent.body as { user_id: string }).user_id])).toEqual([
      [`${MEMOS_BASE}/add/message`, "acme__alice"],
      [`${GLOBEX_BASE}/add/message`, "globex__alice"],
      [`${MEMOS_BASE}/search/memory`, "acme__alice"],
    ]);
    expect(upstream[0]?.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    expect(upstream[1]?.headers.get("Authorization")).toBe(`Token ${GLOBEX_KEY}`);
    const text = JSON.stringify(await json(compat));
    expect(text).toContain('"user_id":"alice"');
    expect(text).not.toContain("acme__");
  });

  it("dedupes per tenant: the same add from two tenants is two adds, from two tokens of one tenant one", async () => {
    const upstream = mockMemos(() => addAccepted());
    const turn = { user_id: "alice", user_message: "same words" };
    await as("tok-acme-admin", "/v1/add", turn, cloud);
    await as("tok-globex", "/v1/add", turn, cloud);
    const rotated = await as("tok-acme-rotated", "/v1/add", turn, cloud);
    expect(await json(rotated)).toMatchObject({ deduplicated: true });
    expect(upstream).toHaveLength(2);
  });

  it("refuses a user id that overflows MemOS's 100 characters once namespaced, with no upstream call", async () => {
    const upstream = mockMemos(() => addAccepted());
    const long = "u".repeat(96);
    const add = await as("tok-acme-admin", "/v1/add", { user_id: long, user_message: "hi" }, cloud);
    const search = await as("tok-acme-admin", "/v1/search", { user_id: long, query: "hi" }, cloud);
    for (const response of [add, search]) {
      expect(response.status).toBe(400);
      expect(await json(response)).toMatchObject({ error: { code: "invalid_request", field: "user_id" } });
    }
    expect(upstream).toHaveLength(0);
  });

  it("keeps the shared space out of the tenants' namespaces", async () => {
    const upstream = mockMemos(() => memosOk({}));
    const response = await as("test-token", "/v1/search", { user_id: "acme__alice", query: "q" }, cloud);
    expect(response.status).toBe(400);
    expect(upstream).toHaveLength(0);
  });
});

describe("scopes", () => {
  it("lets a read-only token search, list and retrieve, and refuses it writes and deletes in each dialect", async () => {
    expect((await as("tok-acme-kb", "/v1/search", { user_id: "a", query: "q" })).status).toBe(200);
    expect((await as("tok-acme-kb", "/v1/list", { user_id: "a" })).status).toBe(200);
    expect((await as("tok-acme-kb", "/dify/retrieval", { knowledge_id: "a", query: "q" })).status).toBe(200);

    const add = await as("tok-acme-kb", "/v1/add", { user_id: "a", user_message: "hi" });
    expect(add.status).toBe(403);
    expect(await json(add)).toMatchObject({ ok: false, error: { code: "forbidden_scope" } });
    const forget = await as("tok-acme-kb", "/v1/forget", { user_id: "a" });
    expect(forget.status).toBe(403);
    const compat = await as("tok-acme-kb", "/api/openmem/v1/add/message", {
      user_id: "a",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(compat.status).toBe(403);
    expect(await json(compat)).toMatchObject({ code: 40301, data: null });
    const compatDelete = await as("tok-acme-kb", "/api/openmem/v1/delete/memory", { user_id: "a" });
    expect(compatDelete.status).toBe(403);

    const mcp = await connect({
      query: "?user_id=a",
      headers: { Authorization: "Bearer tok-acme-kb" },
      overrides: local,
    });
    const refused = await callTool(mcp, "add_memory", { user_message: "hi" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("forbidden_scope");
    expect((await callTool(mcp, "search_memory", { query: "hi" })).isError).toBeFalsy();
    await mcp.close();
  });

  it("gives plain AUTH_TOKENS every scope, and tells a token its tenant and scopes", async () => {
    expect(await json(await as("test-token", "/v1/whoami", {}))).toMatchObject({
      tenant: null,
      scopes: ["read", "write", "delete"],
    });
    expect(await json(await as("tok-acme-kb", "/v1/whoami", {}))).toMatchObject({ tenant: "acme", scopes: ["read"] });
  });
});

describe("a malformed TENANTS fails closed", () => {
  it.each([
    ["not JSON", "{acme:", /TENANTS is not valid JSON/],
    ["a bad tenant name", JSON.stringify({ "Acme!": { tokens: { "tok-x": ["read"] } } }), /tenant #1/],
    ["an unknown scope", JSON.stringify({ acme: { tokens: { "tok-x": ["admin"] } } }), /tenant "acme"/],
    ["a token also in AUTH_TOKENS", JSON.stringify({ acme: { tokens: { "test-token": ["read"] } } }), /tenant "acme"/],
  ])(
    "%s: every token, AUTH_TOKENS included, gets 503 not_configured naming the entry",
    async (_case, tenants, names) => {
      const broken = { ...LOCAL, TENANTS: tenants, RATE_LIMITER: undefined };
      for (const token of ["test-token", "tok-x"]) {
        const response = await as(token, "/v1/search", { user_id: "a", query: "q" }, broken);
        expect(response.status).toBe(503);
        const body = (await json(response)) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("not_configured");
        expect(body.error.message).toMatch(names);
        expect(body.error.message).not.toMatch(/tok-x|test-token/);
      }
      const health = await call("/health", {}, broken);
      expect(health.status).toBe(200);
      expect(await json(health)).toMatchObject({ config: "broken" });
    },
  );
});

describe("review fixes: no way across a tenant's border", () => {
  it("refuses tenant names whose prefix could start another's, without quoting the name", async () => {
    const tenants = JSON.stringify({
      acme: { tokens: { "tok-a": ["read"] } },
      acme__eu: { tokens: { "tok-b": ["read"] } },
    });
    const response = await as("tok-a", "/v1/search", { user_id: "a", query: "q" }, { ...LOCAL, TENANTS: tenants });
    expect(response.status).toBe(503);
    const message = ((await json(response)) as { error: { message: string } }).error.message;
    expect(message).toMatch(/tenant #2/);
    expect(message).not.toContain("acme__eu");
  });

  it("refuses a filter delete from the shared space once tenants exist, and never deletes a tenant's id from it", async () => {
    const upstream = mockMemos((request) =>
      request.url.includes("/get/memory/")
        ? memosOk({ id: "m-acme", user_id: "acme__alice", content: "acme's" })
        : memosOk({ success: true }),
    );
    const filtered = await as("test-token", "/api/openmem/v1/delete/memory", { filter: { and: [] } }, cloud);
    expect(filtered.status).toBe(400);
    const byId = await as("test-token", "/v1/delete", { memory_ids: ["m-acme"] }, cloud);
    expect(await json(byId)).toMatchObject({ deleted: 0 });
    expect(upstream.some((sent) => sent.url.endsWith("/delete/memory"))).toBe(false);
  });

  it("checks a queued add's namespaced id before answering 202", async () => {
    const response = await call(
      "/v1/add",
      {
        method: "POST",
        headers: {
          Authorization: "Bearer tok-acme-admin",
          "Content-Type": "application/json",
          Prefer: "respond-async",
        },
        body: JSON.stringify({ user_id: "u".repeat(96), user_message: "hi" }),
      },
      cloud,
    );
    expect(response.status).toBe(400);
  });

  it("treats status deleted as a delete: the delete scope, and a re-add afterwards is stored again", async () => {
    await as("tok-acme-admin", "/v1/add", { user_id: "zoe", user_message: "zoe likes jazz" });
    const { memories } = (await json(await as("tok-acme-admin", "/v1/list", { user_id: "zoe" }))) as {
      memories: { id: string }[];
    };
    const id = memories[0]?.id ?? "";
    expect((await as("tok-acme-kb", "/v1/update", { memory_id: id, status: "deleted" })).status).toBe(403);
    expect((await as("tok-acme-admin", "/v1/update", { memory_id: id, status: "deleted" })).status).toBe(200);
    const again = await as("tok-acme-admin", "/v1/add", { user_id: "zoe", user_message: "zoe likes jazz" });
    expect(await json(again)).toMatchObject({ deduplicated: false });
  });
});

describe("the shared space: a delete by one token frees another token's re-add", () => {
  it("stores the same add again after another shared token forgot the user", async () => {
    const upstream = mockMemos((request) =>
      request.url.endsWith("/add/message") ? addAccepted() : memosOk({ success: true }),
    );
    const shared = { ...CLOUD, RATE_LIMITER: undefined };
    const turn = { user_id: "sam", user_message: "sam plays oboe" };
    await as("test-token", "/v1/add", turn, shared);
    expect(await json(await as("test-token", "/v1/add", turn, shared))).toMatchObject({ deduplicated: true });
    expect((await as("second-token", "/v1/forget", { user_id: "sam" }, shared)).status).toBe(200);
    expect(await json(await as("test-token", "/v1/add", turn, shared))).toMatchObject({ deduplicated: false });
    expect(upstream.filter((sent) => sent.url.endsWith("/add/message"))).toHaveLength(2);
  });
});
