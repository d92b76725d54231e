/** Hand-picked hostile inputs the random property test is unlikely to produce. */
import { describe, expect, it } from "vitest";
import { CLOUD, LOCAL, addAccepted, authed, call, json, memosOk, mockMemos, postJson, searchData } from "./helpers";

const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
};

describe.each([
  ["MemOS backend", CLOUD],
  ["embedded store", LOCAL],
])("hostile inputs against the %s: a 4xx or a 200, never a 500", (_name, backend) => {
  it("refuses JSON nested thousands of levels deep (a stack overflow elsewhere)", async () => {
    const upstream = mockMemos(() => addAccepted());
    const deepContent = JSON.stringify({
      user_id: "u",
      messages: [{ role: "user", content: nested(6_000, "x", (v) => [v]) }],
    });
    const add = await call(
      "/v1/add",
      { method: "POST", headers: authed({ "Content-Type": "application/json" }), body: deepContent },
      backend,
    );
    expect(add.status).toBe(400);
    const deepFilter = JSON.stringify(nested(20_000, {}, (v) => ({ and: [v] })));
    const search = await postJson("/v1/search", { user_id: "u", query: "q", filter: deepFilter }, backend);
    expect(search.status).toBe(400);
    const plugin = await call(
      "/api/openmem/v1/add/message",
      { method: "POST", headers: authed({ "Content-Type": "application/json" }), body: deepContent },
      backend,
    );
    expect(plugin.status).toBe(400);
    expect(upstream).toHaveLength(0);
  });

  it("answers a filter with 120 conditions and a query of 48 short words with every scope set", async () => {
    mockMemos(() => memosOk(searchData()));
    const many = { and: Array.from({ length: 120 }, (_, i) => ({ agent_id: `a${i}` })) };
    expect((await postJson("/v1/search", { user_id: "u", query: "q", filter: many }, backend)).status).toBe(200);
    const words = Array.from({ length: 48 }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}`).join(" ");
    const scoped = { user_id: "u", query: words, conversation_id: "c", agent_id: "a", app_id: "b", tags: "t1,t2" };
    expect((await postJson("/v1/search", scoped, backend)).status).toBe(200);
  });

  it("searches text with control characters (NUL, escape) as plain text", async () => {
    mockMemos(() => memosOk(searchData()));
    for (const query of ["abc\u0000def", "\u001b[31mred\u001b[0m", "tab\there"]) {
      expect((await postJson("/v1/search", { user_id: "u", query }, backend)).status, JSON.stringify(query)).toBe(200);
    }
  });

  it("checks memory_limit_number on the MemOS-compatible search", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    for (const limit of ["abc", {}, -1, 0, 2.5]) {
      const response = await postJson(
        "/api/openmem/v1/search/memory",
        { user_id: "u", query: "q", memory_limit_number: limit },
        backend,
      );
      expect(response.status, JSON.stringify(limit)).toBe(400);
    }
    expect(upstream).toHaveLength(0);
  });

  it("treats form fields named like Object.prototype members as plain fields", async () => {
    const upstream = mockMemos(() => addAccepted());
    const body = "user_id=u&user_messages=hi&constructor=x&toString=y&__proto__=z&hasOwnProperty=w";
    const response = await call(
      "/api/openmem/v1/add/message",
      { method: "POST", headers: authed({ "Content-Type": "application/x-www-form-urlencoded" }), body },
      backend,
    );
    expect(response.status).toBe(200);
    if (backend === CLOUD) {
      const sent = upstream[0]?.body as Record<string, unknown>;
      expect(sent).toMatchObject({ user_id: "u", constructor: "x", toString: "y", hasOwnProperty: "w" });
      expect(sent.messages).toEqual([expect.objectContaining({ role: "user", content: "hi" })]);
    }
  });
});

describe("the embedded store ANDs filter conditions, as MemOS does", () => {
  it("finds nothing for two different agent ids in one `and`", async () => {
    await postJson("/v1/add", { user_id: "u", agent_id: "a1", user_message: "shared words here" }, LOCAL);
    await postJson("/v1/add", { user_id: "u", agent_id: "a2", user_message: "shared words here too" }, LOCAL);
    const both = await postJson(
      "/v1/search",
      { user_id: "u", query: "shared words", filter: { and: [{ agent_id: "a1" }, { agent_id: "a2" }] } },
      LOCAL,
    );
    expect(await json(both)).toMatchObject({ count: 0 });
  });
});
