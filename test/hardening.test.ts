/**
 * Hardening 2 (issue 14): no request may stall the Worker, and every upstream
 * answer is read right. Each test here failed on the code before the fix.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  CLOUD,
  LOCAL,
  MEMOS_KEY,
  TOKEN,
  addAccepted,
  call,
  json,
  memosOk,
  mockMemos,
  postJson,
  searchData,
} from "./helpers";

const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

function postForm(path: string, text: string, overrides = CLOUD, headers: Record<string, string> = {}) {
  return call(
    path,
    { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, ...FORM, ...headers }, body: text },
    overrides,
  );
}

describe("form bodies are parsed in linear time, with bounded fields", () => {
  it("refuses 120,000 repeated keys under the size cap with 400, without calling MemOS", async () => {
    const upstream = mockMemos(() => memosOk(searchData()));
    const body = `user_id=u&query=q&${"a&".repeat(120_000)}`;
    expect(body.length).toBeLessThan(262_144);
    const response = await postForm("/v1/search", body);
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    expect(upstream).toHaveLength(0);
  });

  it("refuses one key sent more than 100 times, naming it", async () => {
    mockMemos(() => addAccepted());
    const body = `user_id=u&user_message=hi&${"tags=t&".repeat(101)}`;
    const response = await postForm("/v1/add", body);
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: "invalid_request", field: "tags" } });
  });

  it("still collects a repeated key into a list (50 tags reach MemOS in order)", async () => {
    const upstream = mockMemos(() => addAccepted());
    const tags = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const body = `user_id=u&user_message=hi&${tags.map((tag) => `tags=${tag}`).join("&")}`;
    const response = await postForm("/v1/add", body);
    expect(response.status).toBe(200);
    expect((upstream[0]?.body as { tags: string[] }).tags).toEqual(tags);
  });
});

describe("work before authentication is bounded", () => {
  it("refuses a comma-stuffed Authorization header without hashing its pieces", async () => {
    const digest = vi.spyOn(crypto.subtle, "digest");
    const response = await call(
      "/v1/search",
      {
        method: "POST",
        headers: { Authorization: "a,".repeat(60_000), "Content-Type": "application/json" },
        body: "{}",
      },
      CLOUD,
    );
    expect(response.status).toBe(401);
    expect(digest.mock.calls.length).toBeLessThan(10);
  });

  it("never hashes a candidate longer than every configured token", async () => {
    const digest = vi.spyOn(crypto.subtle, "digest");
    const response = await call("/v1/search", {
      method: "POST",
      headers: { Authorization: `Bearer ${"x".repeat(3_000)}` },
    });
    expect(response.status).toBe(401);
    const hashedLong = digest.mock.calls.some(([, data]) => (data as Uint8Array).byteLength >= 3_000);
    expect(hashedLong).toBe(false);
  });

  it("accepts a real token among two joined Authorization headers", async () => {
    mockMemos(() => memosOk(searchData()));
    const response = await call(
      "/v1/search",
      {
        method: "POST",
        headers: { Authorization: `Bearer wrong, Bearer ${TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ user_id: "u", query: "q" }),
      },
      CLOUD,
    );
    expect(response.status).toBe(200);
  });

  it("answers 429 to repeated failed authentication from one address, never to a valid token", async () => {
    mockMemos(() => memosOk(searchData()));
    const limited = { ...CLOUD, AUTH_FAILURE_LIMITER: env.TIGHT_RATE_LIMITER, RATE_LIMITER: undefined };
    const from = (ip: string, token: string) =>
      call(
        "/v1/search",
        {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip, "Content-Type": "application/json" },
          body: JSON.stringify({ user_id: "u", query: "q" }),
        },
        limited,
      );
    // The tight limiter allows 2 a minute per key.
    for (let i = 0; i < 3; i++) expect((await from("203.0.113.7", TOKEN)).status).toBe(200);
    expect((await from("203.0.113.7", "wrong")).status).toBe(401);
    expect((await from("203.0.113.7", "wrong")).status).toBe(401);
    const refused = await from("203.0.113.7", "wrong");
    expect(refused.status).toBe(429);
    expect(await json(refused)).toMatchObject({ error: { code: "rate_limited" } });
    expect(refused.headers.get("Retry-After")).toBe("60");
    // The address's failures do not lock out a valid token, nor another address.
    expect((await from("203.0.113.7", TOKEN)).status).toBe(200);
    expect((await from("198.51.100.9", "wrong")).status).toBe(401);
  });

  it("tells a rate-limited caller the configured period", async () => {
    mockMemos(() => memosOk(searchData()));
    const tight = { ...CLOUD, RATE_LIMITER: env.TIGHT_RATE_LIMITER, RATE_LIMIT_PERIOD_SECONDS: "10" };
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await postJson("/v1/search", { user_id: "u", query: "period" }, tight, { "X-API-Key": "second-token" });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last?.headers.get("Retry-After")).toBe("10");
  });
});

describe("a long query cannot stall the embedded store", () => {
  it("searches a 250,000-character word by its start, and finds the memory that starts alike", async () => {
    const word = "abcdefghij".repeat(10);
    await postJson("/v1/add", { user_id: "x", user_message: `code ${word}` }, LOCAL);
    const response = await postJson("/v1/search", { user_id: "x", query: "abcdefghij".repeat(25_000) }, LOCAL);
    expect(response.status).toBe(200);
    const found = await json(response);
    expect(found.count).toBe(1);
  });
});

describe("upstream answers are read right", () => {
  it("treats a create_time Date cannot hold as unknown on every search surface", async () => {
    mockMemos(() =>
      memosOk({
        memory_detail_list: [{ id: "m1", memory_value: "likes tea", create_time: 1e20, relativity: 0.9 }],
      }),
    );
    const search = await postJson("/v1/search", { user_id: "u", query: "tea" });
    expect(search.status).toBe(200);
    expect((await json(search)).memories).toEqual([expect.objectContaining({ id: "m1", created_at: null })]);

    const retrieval = await postJson("/dify/retrieval", { knowledge_id: "u", query: "tea" });
    expect(retrieval.status).toBe(200);
    const extension = await postJson("/dify/extension", {
      point: "app.external_data_tool.query",
      params: { query: "tea", inputs: { user_id: "u" } },
    });
    expect(extension.status).toBe(200);
  });

  it("shows no document_id for an id that is not text or a number", async () => {
    mockMemos(() => memosOk({ memory_detail_list: [{ id: { nested: 1 }, memory_value: "likes tea" }] }));
    const response = await postJson("/dify/retrieval", { knowledge_id: "u", query: "tea" });
    const { records } = (await json(response)) as { records: { metadata: Record<string, string> }[] };
    expect(records[0]?.metadata.document_id).toBeUndefined();
    expect(JSON.stringify(records)).not.toContain("[object Object]");
  });

  it("reads an accepted add without data as accepted, and records it so a retry is not sent again", async () => {
    const upstream = mockMemos(() => Response.json({ code: 0, message: "ok" }));
    const turn = { user_id: "u", user_message: "no data answer" };
    const first = await postJson("/v1/add", turn);
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ ok: true, task_id: null });
    const retry = await postJson("/v1/add", turn);
    expect(retry.status).toBe(200);
    expect(await json(retry)).toMatchObject({ deduplicated: true });
    expect(upstream).toHaveLength(1);
  });

  it("reads HTTP 400 with an envelope and no data as MemOS refusing the input", async () => {
    mockMemos(() => Response.json({ code: 40000, message: "user_id too long" }, { status: 400 }));
    const response = await postJson("/v1/add", { user_id: "u", user_message: "hi" });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: { code: "upstream_rejected", upstream_status: 400 } });
  });

  it("never answers an error status with code 0 on the MemOS-compatible routes", async () => {
    for (const status of [500, 503, 404]) {
      mockMemos(() => Response.json({ code: 0, message: "ok", data: null }, { status }));
      const response = await postJson("/api/openmem/v1/search/memory", { user_id: "u", query: "q" });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect((await json(response)).code).not.toBe(0);
      vi.restoreAllMocks();
    }
  });

  it("redacts the key wherever MemOS echoes it: answer, task id, KV record", async () => {
    mockMemos(() =>
      memosOk({ success: true, task_id: `Token ${MEMOS_KEY}`, status: "running", echo: { [MEMOS_KEY]: MEMOS_KEY } }),
    );
    const v1 = await postJson("/v1/add", { user_id: "u", user_message: "echo" });
    const v1Text = await v1.text();
    expect(v1.status).toBe(200);
    expect(v1Text).not.toContain(MEMOS_KEY);
    expect(v1Text).toContain("[redacted]");
    const compat = await postJson("/api/openmem/v1/add/message", {
      user_id: "u",
      messages: [{ role: "user", content: "echo compat" }],
    });
    expect(await compat.text()).not.toContain(MEMOS_KEY);
    const { keys } = await env.DEDUPE.list();
    for (const { name } of keys) expect(await env.DEDUPE.get(name)).not.toContain(MEMOS_KEY);
  });

  it("caps an upstream Retry-After", async () => {
    mockMemos(() => new Response("slow down", { status: 429, headers: { "Retry-After": "99999999999" } }));
    const response = await postJson("/v1/search", { user_id: "u", query: "q" });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("Retry-After"))).toBeLessThanOrEqual(300);
  });
});

describe("small fixes", () => {
  it("titles an embedded memory with its first words, not the message role", async () => {
    await postJson(
      "/v1/add",
      { user_id: "t", user_message: "My sister lives in Lisbon and teaches piano to children" },
      LOCAL,
    );
    const response = await postJson("/api/openmem/v1/search/memory", { user_id: "t", query: "Lisbon" }, LOCAL);
    const { data } = (await json(response)) as { data: { memory_detail_list: { memory_key: string }[] } };
    expect(data.memory_detail_list[0]?.memory_key).toBe("My sister lives in Lisbon and teaches piano…");
  });

  it("stores a group add once per distinct user, and sends MemOS each user once", async () => {
    await postJson("/v1/add", { user_id: ["g1", "g1", "g2"], user_message: "group hello" }, LOCAL);
    const rows = await env.MEMORY_DB.prepare("SELECT user_id FROM memories ORDER BY user_id").all<{
      user_id: string;
    }>();
    expect(rows.results.map((row) => row.user_id)).toEqual(["g1", "g2"]);

    const upstream = mockMemos(() => addAccepted());
    await postJson("/v1/add", { user_id: ["a", "a", "b"], user_message: "group hello" });
    expect((upstream[0]?.body as { user_id: string[] }).user_id).toEqual(["a", "b"]);
  });
});
