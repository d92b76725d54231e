import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CLOUD, MEMOS_KEY, call, json, memosOk, mockMemos, postJson, searchData } from "./helpers";

const add = { user_id: "u-1", user_message: "hello" };
const search = { user_id: "u-1", query: "hello" };

async function expectNoDedupeRecord() {
  expect((await env.DEDUPE.list()).keys).toEqual([]);
}

describe("MemOS failures map to documented errors, never leak the key and never remember a failed add", () => {
  it.each([
    [
      "HTTP 401",
      () => new Response(JSON.stringify({ code: 40132, message: `bad key Token ${MEMOS_KEY}` }), { status: 401 }),
      502,
      "upstream_auth",
    ],
    [
      "code 40132 with HTTP 200",
      () => Response.json({ code: 40132, message: `invalid api key ${MEMOS_KEY}`, data: null }),
      502,
      "upstream_auth",
    ],
    ["HTTP 500", () => new Response("Internal Server Error", { status: 500 }), 502, "upstream_error"],
    [
      "code 50004 with HTTP 200",
      () => Response.json({ code: 50004, message: "service unavailable", data: null }),
      502,
      "upstream_error",
    ],
    ["an HTML proxy page", () => new Response("<html>bad gateway</html>", { status: 200 }), 502, "upstream_error"],
    [
      "code 40000 (bad parameters)",
      () => Response.json({ code: 40000, message: `messages invalid ${MEMOS_KEY}`, data: null }),
      400,
      "upstream_rejected",
    ],
    [
      "HTTP 429",
      () => new Response("slow down", { status: 429, headers: { "Retry-After": "7" } }),
      429,
      "upstream_rate_limited",
    ],
    [
      "code 40300",
      () => Response.json({ code: 40300, message: "rate limited", data: null }),
      429,
      "upstream_rate_limited",
    ],
  ])("add: MemOS %s → %i %s", async (_name, reply, status, code) => {
    mockMemos(reply);
    const response = await postJson("/v1/add", add);
    expect(response.status).toBe(status);
    const text = await response.text();
    expect(text).not.toContain(MEMOS_KEY);
    expect(JSON.parse(text)).toMatchObject({ ok: false, error: { code } });
    await expectNoDedupeRecord();
  });

  it("passes MemOS's Retry-After on from a 429", async () => {
    mockMemos(() => new Response("slow down", { status: 429, headers: { "Retry-After": "7" } }));
    const response = await postJson("/v1/search", search);
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("7");
  });

  it("keeps MemOS's message for refused input, with the key redacted", async () => {
    mockMemos(() => Response.json({ code: 40000, message: `bad messages (key ${MEMOS_KEY})`, data: null }));
    const body = await json(await postJson("/v1/add", add));
    expect(body).toMatchObject({ error: { message: "MemOS refused the request: bad messages (key [redacted])" } });
  });

  it("names the field MemOS refused for an over-long id (40010)", async () => {
    mockMemos(() => Response.json({ code: 40010, message: "user_id too long", data: null }));
    const body = await json(await postJson("/v1/add", add));
    expect(body).toMatchObject({ error: { code: "upstream_rejected", field: "user_id" } });
  });

  it("answers 504 upstream_timeout when MemOS is slower than the timeout", async () => {
    mockMemos(async (request) => {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 5_000);
        request.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(request.signal.reason);
        });
      });
      return memosOk(searchData());
    });
    const response = await postJson("/v1/add", add, { ...CLOUD, MEMOS_ADD_TIMEOUT_MS: "150" });
    expect(response.status).toBe(504);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "upstream_timeout" } });
    await expectNoDedupeRecord();
  });

  it("answers 502 when MemOS cannot be reached", async () => {
    mockMemos(() => {
      throw new TypeError("Network connection lost.");
    });
    const response = await postJson("/v1/add", add);
    expect(response.status).toBe(502);
    expect(await json(response)).toMatchObject({ error: { code: "upstream_error" } });
  });

  it("retries a search once after a 503 and answers from the retry", async () => {
    const upstream = mockMemos((_request, index) =>
      index === 0 ? new Response("unavailable", { status: 503 }) : memosOk(searchData()),
    );
    const response = await postJson("/v1/search", search);
    expect(response.status).toBe(200);
    expect(upstream).toHaveLength(2);
  });

  it("does not retry a search MemOS refused outright", async () => {
    const upstream = mockMemos(() => Response.json({ code: 40132, message: "bad key", data: null }));
    expect((await postJson("/v1/search", search)).status).toBe(502);
    expect(upstream).toHaveLength(1);
  });

  it("sends the key with one Token prefix whether or not it was configured with one", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    await postJson("/v1/search", search, { MEMOS_API_KEY: `Token ${MEMOS_KEY}` });
    await postJson("/v1/search", search, { MEMOS_API_KEY: MEMOS_KEY });
    expect(upstream.map((c) => c.headers.get("Authorization"))).toEqual([`Token ${MEMOS_KEY}`, `Token ${MEMOS_KEY}`]);
  });

  it("fails closed with 503 not_configured when AUTH_TOKENS is unset", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const response = await call(
      "/v1/search",
      { method: "POST", headers: { Authorization: "Bearer anything" }, body: JSON.stringify(search) },
      { ...CLOUD, AUTH_TOKENS: undefined },
    );
    expect(response.status).toBe(503);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "not_configured" } });
    expect(upstream).toHaveLength(0);
  });
});
