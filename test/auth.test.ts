import { describe, expect, it } from "vitest";
import { TOKEN, call, json, memosOk, mockMemos, searchData } from "./helpers";

const body = JSON.stringify({ user_id: "u-1", query: "hello" });

function search(headers: Record<string, string>, path = "/v1/search") {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
}

describe("caller tokens", () => {
  it.each([
    ["Authorization: Bearer (Dify HTTP node, External Knowledge, API extension)", { Authorization: `Bearer ${TOKEN}` }],
    [
      "Authorization: Basic <raw token> (Dify custom tool's default prefix, not base64)",
      { Authorization: `Basic ${TOKEN}` },
    ],
    [
      "Authorization: Basic base64(user:token) (Dify HTTP node basic auth with a colon)",
      { Authorization: `Basic ${btoa(`memos:${TOKEN}`)}` },
    ],
    ["Authorization: Token (MemOS clients)", { Authorization: `Token ${TOKEN}` }],
    ["Authorization: <bare token> (Dify custom header auth)", { Authorization: TOKEN }],
    ["X-API-Key", { "X-API-Key": TOKEN }],
    [
      "X-API-Key: Basic <raw token> (a Dify custom tool's prefix on a custom header)",
      { "X-API-Key": `Basic ${TOKEN}` },
    ],
    ["X-API-Key: Bearer <token>", { "X-API-Key": `Bearer ${TOKEN}` }],
    [
      "two Authorization headers joined (a typed header plus the node's auth)",
      { Authorization: `Bearer ${TOKEN}, Bearer ${TOKEN}` },
    ],
    ["the second configured token", { Authorization: "Bearer second-token" }],
  ])("accepts %s", async (_name, headers) => {
    mockMemos(() => memosOk(searchData()));
    expect((await search(headers)).status).toBe(200);
  });

  it("accepts ?key= (Dify custom tool api_key_query)", async () => {
    mockMemos(() => memosOk(searchData()));
    expect((await search({}, `/v1/search?key=${TOKEN}`)).status).toBe(200);
  });

  it.each([
    ["no credential", {}],
    ["a wrong bearer token", { Authorization: "Bearer nope" }],
    ["a token that is a prefix of a real one", { Authorization: "Bearer test-tok" }],
    ["a wrong X-API-Key", { "X-API-Key": "nope" }],
    ["an unreadable Authorization header", { Authorization: `Bearer ${TOKEN} extra` }],
  ])("refuses %s with 401 and calls nothing", async (_name, headers) => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await search(headers);
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    expect(text).not.toContain(TOKEN);
    expect(upstream).toHaveLength(0);
  });
});

describe("unknown routes", () => {
  it("answer 404 JSON", async () => {
    const response = await call("/nope");
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});
