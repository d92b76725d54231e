/**
 * Requests byte-shaped as Dify sends them (docs/dify-contracts.md): the HTTP
 * Request node's body types, External Knowledge, API extension, custom tools.
 */
import { describe, expect, it } from "vitest";
import {
  CLOUD,
  LOCAL,
  MEMOS_KEY,
  ORIGIN,
  TOKEN,
  addAccepted,
  call,
  json,
  memosOk,
  mockMemos,
  pythonJson,
  searchData,
} from "./helpers";

/** httpx's multipart as Dify builds it: text parts, then the empty placeholder part when there are no files. */
function difyMultipart(fields: Record<string, string>): { body: string; contentType: string } {
  const boundary = "8d3b3f2e4c2a4d1f9f3e0e5d6c7b8a90";
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  parts.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="__multipart_placeholder__"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n`,
  );
  return { body: `${parts.join("")}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

const httpxHeaders = {
  Accept: "*/*",
  "Accept-Encoding": "gzip, deflate",
  "User-Agent": "python-httpx/0.28.1",
  traceparent: "00-5b8aa5a2d2c872e8321cf37308d69df2-051581bf3bb55c45-01",
  Authorization: `Bearer ${TOKEN}`,
};

const tricky = 'He said "hi"\nthen C:\\temp\\new & 50% + more 你好 🎉';

function post(path: string, body: string, headers: Record<string, string>, overrides: Record<string, unknown> = CLOUD) {
  return call(path, { method: "POST", headers: { ...httpxHeaders, ...headers }, body }, overrides);
}

describe("HTTP Request node bodies reach MemOS intact", () => {
  it("json body: compact UTF-8 JSON as httpx re-serialises it", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await post("/v1/search", JSON.stringify({ user_id: "abc-123", query: tricky, top_k: 5 }), {
      "Content-Type": "application/json",
    });
    expect(response.status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ user_id: "abc-123", query: tricky, memory_limit_number: 5 });
  });

  it("x-www-form-urlencoded: + for spaces, every character kept, top_k coerced", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = new URLSearchParams({ user_id: "abc-123", query: tricky, top_k: "5" }).toString();
    expect(body).toContain("+");
    const response = await post("/v1/search", body, { "Content-Type": "application/x-www-form-urlencoded" });
    expect(response.status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ user_id: "abc-123", query: tricky, memory_limit_number: 5 });
  });

  it("form-data: text parts read, Dify's __multipart_placeholder__ part ignored", async () => {
    const upstream = mockMemos(() => addAccepted());
    const { body, contentType } = difyMultipart({
      user_id: "abc-123",
      conversation_id: "conv-9",
      user_message: tricky,
      assistant_message: "Noted.",
      idempotency_key: "run-77",
    });
    const response = await post("/v1/add", body, { "Content-Type": contentType });
    expect(response.status).toBe(200);
    const sent = upstream[0]?.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty("__multipart_placeholder__");
    expect(sent).not.toHaveProperty("idempotency_key");
    expect(sent).toMatchObject({
      user_id: "abc-123",
      conversation_id: "conv-9",
      messages: [
        { role: "user", content: tricky },
        { role: "assistant", content: "Noted." },
      ],
    });
  });

  it("raw-text with text/plain, and older Dify's raw-text with no Content-Type, holding JSON", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = JSON.stringify({ user_id: "abc-123", query: "hello" });
    expect((await post("/v1/search", body, { "Content-Type": "text/plain" })).status).toBe(200);
    expect((await post("/v1/search", body, {})).status).toBe(200);
    expect(upstream).toHaveLength(2);
  });

  it("Python json.dumps with \\u escapes (custom tools, External Knowledge)", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = pythonJson({ user_id: "u-42", query: 'What does Bob like? "tea" 你好' });
    expect(body).toContain("\\u4f60\\u597d");
    expect((await post("/v1/search", body, { "Content-Type": "application/json" })).status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ query: 'What does Bob like? "tea" 你好' });
  });

  it("raw-text JSON broken by a quote in a variable → 400 invalid_json pointing to x-www-form-urlencoded", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const broken = `{"user_id": "u1", "query": "say "hi" please"}`;
    const response = await post("/v1/search", broken, { "Content-Type": "text/plain" });
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body).toMatchObject({ ok: false, error: { code: "invalid_json" } });
    expect((body.error as { message: string }).message).toContain("x-www-form-urlencoded");
    expect(upstream).toHaveLength(0);
  });

  it('treats "" and None (empty or None Dify variables) as absent', async () => {
    const upstream = mockMemos(() => addAccepted());
    const body = new URLSearchParams({
      user_id: "abc-123",
      conversation_id: "",
      user_message: "hello",
      assistant_message: "None",
      messages: "",
      top_k: "",
    }).toString();
    const response = await post("/v1/add", body, { "Content-Type": "application/x-www-form-urlencoded" });
    expect(response.status).toBe(200);
    const sent = upstream[0]?.body as { messages: unknown[] };
    expect(sent).not.toHaveProperty("conversation_id");
    expect(sent.messages).toEqual([expect.objectContaining({ role: "user", content: "hello" })]);
  });

  it("takes messages as a JSON string in a form field", async () => {
    const upstream = mockMemos(() => addAccepted());
    const messages = JSON.stringify([
      { role: "user", content: "I'm allergic to peanuts" },
      { role: "assistant", content: "Noted" },
    ]);
    const body = new URLSearchParams({ user_id: "abc-123", messages }).toString();
    expect((await post("/v1/add", body, { "Content-Type": "application/x-www-form-urlencoded" })).status).toBe(200);
    expect((upstream[0]?.body as { messages: unknown[] }).messages).toHaveLength(2);
  });

  it("never redirects, never sends Content-Disposition, always declares utf-8", async () => {
    mockMemos(() => memosOk(searchData()));
    const body = new URLSearchParams({ user_id: "u", query: "q" }).toString();
    for (const path of ["/v1/search", "/v1/search/", "/v1//search", "/v1/search?format=text"]) {
      mockMemos(() => memosOk(searchData()));
      const response = await post(path, body, { "Content-Type": "application/x-www-form-urlencoded" });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("Content-Disposition"), path).toBeNull();
      expect(response.headers.get("Content-Type"), path).toMatch(/charset=utf-8/i);
    }
  });
});

describe("External Knowledge API: POST /dify/retrieval", () => {
  const retrieval = (
    body: string | null,
    headers: Record<string, string> = {},
    path = "/dify/retrieval",
    overrides: Record<string, unknown> = CLOUD,
  ) =>
    call(
      path,
      {
        method: "POST",
        headers: { ...httpxHeaders, ...(body === null ? {} : { "Content-Type": "application/json" }), ...headers },
        ...(body === null ? {} : { body }),
      },
      overrides,
    );

  it("answers Dify's save-time probe (POST, no body) with a valid token: not 403/404/502", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    for (const path of ["/dify/retrieval", "/dify//retrieval"]) {
      const response = await retrieval(null, {}, path);
      expect([403, 404, 502]).not.toContain(response.status);
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ records: [] });
    }
    expect(upstream).toHaveLength(0);
  });

  it("refuses a bad token with 403 error_code 1002, and a malformed header with 1001", async () => {
    const bad = await retrieval(null, { Authorization: "Bearer wrong" });
    expect(bad.status).toBe(403);
    expect(await json(bad)).toEqual({ error_code: 1002, error_msg: expect.any(String) });
    const malformed = await retrieval(null, { Authorization: "Bearer a b c" });
    expect(malformed.status).toBe(403);
    expect(await json(malformed)).toMatchObject({ error_code: 1001 });
  });

  it("answers 403 (not 401) to a bad token on any /dify path, so a mistyped endpoint fails Dify's save check", async () => {
    const response = await retrieval(null, { Authorization: "Bearer wrong" }, "/dify/retrieval/retrieval");
    expect(response.status).toBe(403);
    expect(await json(response)).toMatchObject({ error_code: 1002 });
    const typo = await retrieval(null, {}, "/dify/retrieval/retrieval");
    expect(typo.status).toBe(404);
  });

  it("searches the knowledge_id's memory and answers records with content, score, title and object metadata", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = pythonJson({
      retrieval_setting: { top_k: 4, score_threshold: 0.0 },
      query: 'Where to stay? "cheap" 你好',
      knowledge_id: "user-42",
      metadata_condition: null,
    });
    const response = await retrieval(body, {}, "/dify//retrieval");
    expect(response.status).toBe(200);
    const { records } = (await response.json()) as {
      records: { content: string; score: number; title: string; metadata: unknown }[];
    };
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      content: "The user plans to visit Guangzhou this summer.",
      score: 0.83,
      title: "Summer trip",
      metadata: expect.objectContaining({ document_id: "mem-1", type: "fact", source: "memos-edge" }),
    });
    for (const record of records) {
      expect(typeof record.metadata).toBe("object");
      expect(record.metadata).not.toBeNull();
      expect(record.score).toBeGreaterThanOrEqual(0);
      expect(record.score).toBeLessThanOrEqual(1);
    }
    expect(upstream[0]?.body).toMatchObject({
      user_id: "user-42",
      query: 'Where to stay? "cheap" 你好',
      memory_limit_number: 4,
    });
  });

  it("clamps a top_k above what memos-edge serves instead of refusing it", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = pythonJson({
      retrieval_setting: { top_k: 100, score_threshold: 0.0 },
      query: "trip",
      knowledge_id: "user-42",
    });
    expect((await retrieval(body)).status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ memory_limit_number: 25 });
  });

  it("drops records under score_threshold and defaults a null top_k", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = pythonJson({
      retrieval_setting: { top_k: null, score_threshold: 0.8 },
      query: "trip",
      knowledge_id: "user-42",
    });
    const { records } = (await (await retrieval(body)).json()) as { records: { score: number }[] };
    expect(records.map((record) => record.score)).toEqual([0.83]);
    expect(upstream[0]?.body).toMatchObject({ memory_limit_number: 5 });
  });

  it("serves the embedded store too", async () => {
    await call(
      "/v1/add",
      {
        method: "POST",
        headers: { ...httpxHeaders, "Content-Type": "application/json" },
        body: JSON.stringify({ user_id: "kb-user", user_message: "Bob likes green tea" }),
      },
      LOCAL,
    );
    const body = pythonJson({
      retrieval_setting: { top_k: 3, score_threshold: 0.5 },
      query: "green tea",
      knowledge_id: "kb-user",
    });
    const response = await retrieval(body, {}, "/dify/retrieval", LOCAL);
    const { records } = (await response.json()) as { records: { content: string }[] };
    expect(records.map((record) => record.content)).toEqual(["Bob likes green tea"]);
  });

  it("answers a request missing knowledge_id with 400, in Dify's error shape", async () => {
    const response = await retrieval(pythonJson({ query: "x", retrieval_setting: { top_k: 2 } }));
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error_code: 400, error_msg: "knowledge_id is required" });
  });
});

describe("API-based extension: POST /dify/extension", () => {
  const extension = (payload: unknown, overrides: Record<string, unknown> = CLOUD) =>
    call(
      "/dify/extension",
      {
        method: "POST",
        headers: { ...httpxHeaders, "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      },
      overrides,
    );

  it("answers ping with pong", async () => {
    const response = await extension({ point: "ping", params: {} });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ result: "pong" });
  });

  it("answers app.external_data_tool.query with the memory text for params.inputs.user_id", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await extension({
      point: "app.external_data_tool.query",
      params: { app_id: "61248ab4", tool_variable: "memory", inputs: { user_id: "u-7" }, query: "Plan my summer" },
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      result:
        "Facts:\n- Summer trip: The user plans to visit Guangzhou this summer.\n\n" +
        "Preferences:\n- The user likely prefers good-value hotels.",
    });
    expect(upstream[0]?.body).toMatchObject({ user_id: "u-7", query: "Plan my summer" });
  });

  it("takes a number input variable as the user id", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await extension({
      point: "app.external_data_tool.query",
      params: { inputs: { user_id: 42 }, query: "hi" },
    });
    expect(response.status).toBe(200);
    expect(upstream[0]?.body).toMatchObject({ user_id: "42" });
  });

  it("explains a missing user id with a 400", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await extension({ point: "app.external_data_tool.query", params: { inputs: {}, query: "hi" } });
    expect(response.status).toBe(400);
    const body = await json(response);
    expect((body.error as { message: string }).message).toContain("user_id");
    expect(upstream).toHaveLength(0);
  });

  it("refuses a bad token with 401", async () => {
    const response = await call("/dify/extension", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer nope" },
      body: JSON.stringify({ point: "ping", params: {} }),
    });
    expect(response.status).toBe(401);
  });
});

describe("GET /openapi.json (Dify custom tool)", () => {
  it("describes add_memory and search_memory at the Worker's own origin, with bearer auth", async () => {
    const response = await call("/openapi.json");
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      servers: { url: string }[];
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<
        string,
        {
          post: {
            operationId: string;
            description: string;
            requestBody: {
              content: Record<
                string,
                { schema: { properties: Record<string, { type?: string; description?: string }>; required?: string[] } }
              >;
            };
          };
        }
      >;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.servers).toEqual([{ url: ORIGIN }]);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
    const operations = Object.values(doc.paths).map((path) => path.post.operationId);
    expect(operations.sort()).toEqual(["add_memory", "delete_memory", "forget_user", "list_memories", "search_memory"]);

    for (const path of Object.values(doc.paths)) {
      const schema = path.post.requestBody.content["application/json"]?.schema;
      expect(schema).toBeDefined();
      for (const [name, property] of Object.entries(schema?.properties ?? {})) {
        // Dify turns the string "false" into true for boolean fields: strings and numbers only.
        expect(["string", "integer", "number"], name).toContain(property.type);
        expect(property.description, name).toBeTruthy();
      }
    }
    const search = doc.paths["/v1/search"]?.post.requestBody.content["application/json"]?.schema;
    expect(search?.required?.sort()).toEqual(["query", "user_id"]);
    expect(search?.properties.top_k?.type).toBe("integer");
    const add = doc.paths["/v1/add"]?.post.requestBody.content["application/json"]?.schema;
    expect(add?.required).toEqual(["user_id"]);
    expect(Object.keys(add?.properties ?? {})).toEqual(
      expect.arrayContaining(["user_message", "assistant_message", "messages"]),
    );
    // The LLM fills every property Dify shows it: plumbing stays out of the tool.
    for (const plumbing of ["source", "user_messages", "ai_messages", "async_mode", "info"]) {
      expect(Object.keys(add?.properties ?? {})).not.toContain(plumbing);
    }
  });

  it("holds no secret", async () => {
    const text = await (await call("/openapi.json")).text();
    expect(text).not.toContain(MEMOS_KEY);
    expect(text).not.toContain(TOKEN);
  });
});
