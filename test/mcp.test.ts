/**
 * POST /mcp, driven by the official MCP SDK client (Client +
 * StreamableHTTPClientTransport) whose `fetch` calls the Worker in the same
 * isolate, and by raw JSON-RPC where a client library would hide the wire.
 * MemOS is mocked at the fetch boundary, as everywhere else.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { describe, expect, it, vi } from "vitest";
import {
  CLOUD,
  LOCAL,
  MEMOS_BASE,
  MEMOS_KEY,
  ORIGIN,
  TOKEN,
  addAccepted,
  call,
  json,
  memosOk,
  mockMemos,
  searchData,
} from "./helpers";
import { callTool, connect, textOf, workerFetch } from "./mcp-client";

/** A raw JSON-RPC POST as a spec-following client sends it. */
function rpc(body: unknown, headers: Record<string, string> = {}, path = "/mcp") {
  return call(path, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const initialize = (protocolVersion: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "0" } },
});

const turn = {
  user_id: "alice",
  conversation_id: "c-1",
  user_message: "My favourite fruit is mango.",
  assistant_message: "Noted: mango it is.",
};

describe("MCP over the SDK client: tools", () => {
  it("connects and lists add_memory and search_memory with annotations and a required user_id", async () => {
    const seen: string[] = [];
    const client = await connect({ seen });
    expect(client.getServerVersion()).toMatchObject({ name: "memos-edge" });
    expect(client.getInstructions()).toContain("Long-term memory");
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      "add_memory",
      "search_memory",
      "list_memories",
      "delete_memory",
      "forget_user",
    ]);

    const [add, search] = tools;
    expect(add?.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(search?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
    expect(add?.description).toMatch(/long-term memory/);
    expect(search?.inputSchema).toMatchObject({
      type: "object",
      properties: { user_id: { type: "string" }, query: { type: "string" }, top_k: { type: "integer", maximum: 50 } },
      required: ["user_id", "query"],
    });
    expect(add?.inputSchema.required).toEqual(["user_id"]);
    expect(Object.keys(add?.inputSchema.properties ?? {})).toEqual([
      "user_id",
      "messages",
      "user_message",
      "assistant_message",
      "conversation_id",
      "tags",
      "idempotency_key",
      "delivery",
    ]);
    expect(search?.outputSchema).toMatchObject({ properties: { memories: { type: "array" } } });
    await client.close();
    // Stateless: initialize, the initialized notification, the optional GET stream refused, one POST per call.
    expect(seen).toEqual(["POST /mcp 200", "POST /mcp 202", "GET /mcp 405", "POST /mcp 200"]);
  });

  it("add_memory sends the turn to MemOS through the same add as /v1/add", async () => {
    const upstream = mockMemos(() => addAccepted());
    const client = await connect();
    const result = await callTool(client, "add_memory", { ...turn, tags: ["food"] });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe("Added 2 messages to memory for alice (conversation c-1).");
    expect(result.structuredContent).toEqual({
      deduplicated: false,
      user_id: "alice",
      conversation_id: "c-1",
      message_count: 2,
      task_id: "task-1",
      status: "running",
    });
    expect(upstream).toHaveLength(1);
    expect(upstream[0]?.url).toBe(`${MEMOS_BASE}/add/message`);
    expect(upstream[0]?.headers.get("Authorization")).toBe(`Token ${MEMOS_KEY}`);
    expect(upstream[0]?.body).toMatchObject({
      user_id: "alice",
      conversation_id: "c-1",
      tags: ["food"],
      source: "memos-edge",
      messages: [
        { role: "user", content: "My favourite fruit is mango.", chat_time: expect.any(String) },
        { role: "assistant", content: "Noted: mango it is.", chat_time: expect.any(String) },
      ],
    });
    await client.close();
  });

  it("add_memory takes messages as a list", async () => {
    const upstream = mockMemos(() => addAccepted());
    const client = await connect();
    const result = await callTool(client, "add_memory", {
      user_id: "alice",
      messages: [
        { role: "user", content: "I am allergic to peanuts." },
        { role: "assistant", content: "I will remember that." },
      ],
    });
    expect(result.isError).toBeFalsy();
    const sent = upstream[0]?.body as { messages: { role: string; content: string }[] };
    expect(sent.messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "I am allergic to peanuts."],
      ["assistant", "I will remember that."],
    ]);
    await client.close();
  });

  it("search_memory answers the ready-to-prompt text and the memories as structured content", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const client = await connect();
    const result = await callTool(client, "search_memory", { user_id: "alice", query: "Guangzhou hotels", top_k: 5 });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(
      "Facts:\n- Summer trip: The user plans to visit Guangzhou this summer.\n\n" +
        "Preferences:\n- The user likely prefers good-value hotels.",
    );
    expect(result.structuredContent).toMatchObject({
      count: 2,
      memories: [
        { id: "mem-1", type: "fact", score: 0.83, conversation_id: "0610" },
        { id: "pref-1", type: "preference", score: null },
      ],
    });
    expect(upstream[0]?.url).toBe(`${MEMOS_BASE}/search/memory`);
    expect(upstream[0]?.body).toEqual({
      user_id: "alice",
      query: "Guangzhou hotels",
      memory_limit_number: 5,
      include_preference: true,
      source: "memos-edge",
    });
    await client.close();
  });

  it("adds and finds a memory on the embedded store, offline", async () => {
    const upstream = mockMemos(() => new Response("must not be called", { status: 500 }));
    const client = await connect({ overrides: LOCAL });
    const added = await callTool(client, "add_memory", turn);
    expect(added.isError).toBeFalsy();
    expect(added.structuredContent).toMatchObject({ deduplicated: false, message_count: 2, status: "completed" });
    const found = await callTool(client, "search_memory", { user_id: "alice", query: "favourite fruit" });
    expect(found.isError).toBeFalsy();
    expect(textOf(found)).toContain("- My favourite fruit is mango.");
    expect(found.structuredContent).toMatchObject({
      memories: [{ content: "My favourite fruit is mango.", type: "fact", conversation_id: "c-1" }],
    });
    const nobody = await callTool(client, "search_memory", { user_id: "bob", query: "favourite fruit" });
    expect(textOf(nobody)).toBe("No relevant memories found.");
    expect(nobody.structuredContent).toEqual({ memories: [], count: 0 });
    expect(upstream).toHaveLength(0);
    await client.close();
  });

  it("an add retried with the same idempotency key reaches MemOS once", async () => {
    const upstream = mockMemos(() => addAccepted());
    const client = await connect();
    const args = { ...turn, idempotency_key: "run-42" };
    const first = await callTool(client, "add_memory", args);
    const retry = await callTool(client, "add_memory", args);
    expect(upstream).toHaveLength(1);
    expect(first.structuredContent).toMatchObject({ deduplicated: false });
    expect(retry.isError).toBeFalsy();
    expect(retry.structuredContent).toMatchObject({ deduplicated: true, task_id: "task-1" });
    expect(textOf(retry)).toMatch(/^Already added: 2 messages for alice/);

    // The same key with other words is a mistake the model is told about.
    const reused = await callTool(client, "add_memory", { ...args, user_message: "Something else." });
    expect(reused.isError).toBe(true);
    expect(textOf(reused)).toContain("idempotency_key_reused");
    expect(upstream).toHaveLength(1);
    await client.close();
  });
});

describe("MCP: whose memory", () => {
  it("?user_id= on the MCP URL fixes the user: no user_id argument, and one given is ignored", async () => {
    const upstream = mockMemos((request) =>
      request.url.endsWith("/add/message") ? addAccepted() : memosOk(searchData()),
    );
    const client = await connect({ query: "?user_id=alice" });
    const { tools } = await client.listTools();
    for (const tool of tools) {
      expect(tool.inputSchema.properties).not.toHaveProperty("user_id");
      expect(tool.inputSchema.required ?? []).not.toContain("user_id");
    }
    // A model naming someone else still reads and writes the fixed user's memory.
    const searched = await callTool(client, "search_memory", { query: "trip", user_id: "bob" });
    const added = await callTool(client, "add_memory", { user_message: "I like tea.", user_id: "bob" });
    expect(searched.isError).toBeFalsy();
    expect(added.isError).toBeFalsy();
    expect(textOf(added)).toBe("Added 1 message to memory for alice.");
    expect(upstream.map((sent) => (sent.body as { user_id: string }).user_id)).toEqual(["alice", "alice"]);
    await client.close();
  });

  it("X-Memos-User-Id fixes the user too, with the token in ?key= (Dify before 1.9 sets no headers)", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const transport = new StreamableHTTPClientTransport(new URL(`${ORIGIN}/mcp?key=${TOKEN}`), {
      fetch: workerFetch(CLOUD),
      requestInit: { headers: { "X-Memos-User-Id": "carol" } },
    });
    const client = new Client({ name: "t", version: "1" }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.find((tool) => tool.name === "search_memory")?.inputSchema.required).toEqual(["query"]);
    await callTool(client, "search_memory", { query: "trip", user_id: "mallory" });
    expect(upstream[0]?.body).toMatchObject({ user_id: "carol" });
    await client.close();
  });

  it("a header and a query naming different users are refused as a configuration mistake", async () => {
    const response = await rpc(initialize("2025-06-18"), { "X-Memos-User-Id": "alice" }, "/mcp?user_id=bob");
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32000, data: { code: "invalid_request" } },
    });
  });

  it("without a fixed user, a call without user_id is a tool error the model can read", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const client = await connect();
    const result = await callTool(client, "search_memory", { query: "trip" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Input validation error.*user_id/s);
    expect(upstream).toHaveLength(0);
    await client.close();
  });
});

describe("MCP: auth", () => {
  it("a wrong token fails the connection with HTTP 401, no OAuth discovery", async () => {
    const seen: string[] = [];
    const error = await connect({ headers: { Authorization: "Bearer wrong-token" }, seen }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    expect((error as Error).message).toContain("The caller token is not valid.");
    expect(seen).toEqual(["POST /mcp 401"]);
  });

  it("401 carries a JSON-RPC error and no WWW-Authenticate (which would invite an OAuth flow)", async () => {
    const response = await rpc(initialize("2025-06-18"), { Authorization: "" });
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBeNull();
    expect(await json(response)).toEqual({
      jsonrpc: "2.0",
      error: {
        code: -32000,
        message: "A caller token is required: send 'Authorization: Bearer <token>'.",
        data: { code: "unauthorized" },
      },
      id: null,
    });
  });

  it.each([
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/mcp",
    "/.well-known/openid-configuration",
  ])("serves no OAuth metadata: GET %s is a JSON 404", async (path) => {
    const response = await call(path);
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("MCP: protocol and transport", () => {
  it.each(["2025-03-26", "2025-06-18", "2025-11-25"])("negotiates protocol version %s", async (version) => {
    const response = await rpc(initialize(version));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Mcp-Session-Id")).toBeNull();
    const body = (await json(response)) as { result: { protocolVersion: string; serverInfo: { name: string } } };
    expect(body.result.protocolVersion).toBe(version);
    expect(body.result.serverInfo.name).toBe("memos-edge");

    // Later requests carry the version in a header (Dify sends none; both work).
    const listed = await rpc({ jsonrpc: "2.0", id: 2, method: "tools/list" }, { "Mcp-Protocol-Version": version });
    expect(listed.status).toBe(200);
    expect(await json(listed)).toMatchObject({
      result: {
        tools: [
          { name: "add_memory" },
          { name: "search_memory" },
          { name: "list_memories" },
          { name: "delete_memory" },
          { name: "forget_user" },
        ],
      },
    });
  });

  it("serves Dify's request shape: X-API-Key, no Mcp-Protocol-Version header, one message per POST", async () => {
    // api/core/mcp/client/streamable_client.py: Accept and Content-Type plus the provider's headers.
    const upstream = mockMemos(() => memosOk(searchData()));
    const dify = { Authorization: "", "X-API-Key": TOKEN };
    for (const version of ["2024-11-05", "2025-03-26", "2025-06-18"]) {
      const answer = (await json(await rpc({ ...initialize(version), id: 0 }, dify))) as {
        result: { protocolVersion: string };
      };
      expect(answer.result.protocolVersion).toBe(version); // Dify refuses a version outside its own list
    }
    expect((await rpc({ jsonrpc: "2.0", method: "notifications/initialized" }, dify)).status).toBe(202);
    const called = await rpc(
      {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "search_memory", arguments: { user_id: "alice", query: "trip" } },
      },
      dify,
    );
    expect(called.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await json(called)).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { content: [{ type: "text", text: expect.stringContaining("Guangzhou") }] },
    });
    expect(upstream).toHaveLength(1);
  });

  it("malformed JSON is a JSON-RPC parse error, not a 500", async () => {
    const response = await rpc("{not json");
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({
      jsonrpc: "2.0",
      error: { code: -32700, message: "Parse error: Invalid JSON" },
      id: null,
    });
  });

  it("JSON that is not JSON-RPC, and an unknown method, are JSON-RPC errors", async () => {
    const notRpc = await rpc({ hello: "world" });
    expect(notRpc.status).toBe(400);
    expect(await json(notRpc)).toMatchObject({ error: { code: -32700 } });
    const unknown = await rpc({ jsonrpc: "2.0", id: 7, method: "memories/everything" });
    expect(unknown.status).toBe(200);
    expect(await json(unknown)).toMatchObject({ id: 7, error: { code: -32601 } });
  });

  it("an unknown tool is a tool error", async () => {
    const response = await rpc({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "delete_everything", arguments: {} },
    });
    expect(await json(response)).toMatchObject({ id: 3, result: { isError: true } });
  });

  it.each(["GET", "DELETE", "PUT"])("%s /mcp is 405 with a JSON-RPC error, never 404", async (method) => {
    const response = await call("/mcp", {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, Accept: "text/event-stream" },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(await json(response)).toMatchObject({
      jsonrpc: "2.0",
      error: { code: -32000, data: { code: "method_not_allowed" } },
      id: null,
    });
  });

  it("serves clients that accept only JSON (or send no Accept)", async () => {
    for (const accept of ["application/json", "*/*", ""]) {
      const response = await rpc(initialize("2025-06-18"), { Accept: accept });
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    }
  });

  it("a body over MAX_BODY_BYTES is refused by the transport with a JSON-RPC error", async () => {
    const response = await rpc({ ...initialize("2025-06-18"), padding: "x".repeat(300_000) });
    expect(response.status).toBe(413);
    expect(await json(response)).toMatchObject({ error: { code: -32000 } });
  });

  it("writes the request log line for /mcp, with the tool's failure on it", async () => {
    mockMemos(() => new Response("bad gateway", { status: 502 }));
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    await rpc({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "search_memory", arguments: { user_id: "alice", query: "trip" } },
    });
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ method: "POST", route: "/mcp", status: 200, error_code: "upstream_error" }),
    );
  });
});

describe("MCP: tool failures", () => {
  it("MemOS down is a tool error with a clear message, never the key or a stack", async () => {
    mockMemos(() => new Response(`internal error near ${MEMOS_KEY}`, { status: 503 }));
    const client = await connect();
    const result = await callTool(client, "search_memory", { user_id: "alice", query: "trip" });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toMatch(/MemOS/);
    expect(text).toMatch(/\(upstream_error, request id [\w-]+\)$/);
    expect(text).not.toContain(MEMOS_KEY);
    expect(text).not.toMatch(/\n\s+at /);
    await client.close();
  });

  it("MemOS refusing the key is a tool error that says which secret to check", async () => {
    mockMemos(() => Response.json({ code: 40132, message: "invalid token", data: null }, { status: 401 }));
    const client = await connect();
    const result = await callTool(client, "add_memory", turn);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("check the MEMOS_API_KEY secret");
    await client.close();
  });

  it("an add with no message is a tool error naming what is missing", async () => {
    const upstream = mockMemos(() => addAccepted());
    const client = await connect();
    const result = await callTool(client, "add_memory", { user_id: "alice", user_message: "   " });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("messages, user_message or assistant_message is required");
    expect(upstream).toHaveLength(0);
    await client.close();
  });

  it("the embedded store failing is a tool error, not a 500", async () => {
    const client = await connect({ overrides: { ...LOCAL, MEMORY_DB: brokenDb() } });
    const result = await callTool(client, "search_memory", { user_id: "alice", query: "trip" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("store_unavailable");
    await client.close();
  });
});

/** A D1 binding whose every statement fails, as D1 does when it is unavailable. */
function brokenDb(): D1Database {
  const fail = () => {
    throw new Error("D1_ERROR: database unavailable");
  };
  return { prepare: fail, batch: fail, exec: fail, dump: fail, withSession: fail } as unknown as D1Database;
}
