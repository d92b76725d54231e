/** Limits, rate limiting, CORS and the request log line (issue 5). */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  CLOUD,
  MEMOS_KEY,
  TOKEN,
  addAccepted,
  authed,
  call,
  json,
  memosOk,
  mockMemos,
  postJson,
  searchData,
} from "./helpers";

describe("request limits", () => {
  it("answers 413 payload_too_large above MAX_BODY_BYTES, without calling MemOS", async () => {
    const upstream = mockMemos(() => addAccepted());
    const big = { user_id: "u", user_message: "x".repeat(3_000) };
    const response = await postJson("/v1/add", big, { ...CLOUD, MAX_BODY_BYTES: "2048" });
    expect(response.status).toBe(413);
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    expect(upstream).toHaveLength(0);
  });

  it("caps the body at 256 KiB by default, also when Content-Length is absent (streamed)", async () => {
    const upstream = mockMemos(() => addAccepted());
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 5) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await call("/v1/add", {
      method: "POST",
      headers: authed({ "Content-Type": "text/plain" }),
      body: stream,
    });
    expect(response.status).toBe(413);
    expect(upstream).toHaveLength(0);
  });

  it("caps messages per add (MAX_MESSAGES) and characters per message (MAX_MESSAGE_CHARS)", async () => {
    const upstream = mockMemos(() => addAccepted());
    const messages = Array.from({ length: 4 }, (_, i) => ({ role: "user", content: `m${i}` }));
    const tooMany = await postJson("/v1/add", { user_id: "u", messages }, { ...CLOUD, MAX_MESSAGES: "3" });
    expect(tooMany.status).toBe(400);
    expect(await json(tooMany)).toMatchObject({
      error: { code: "invalid_request", field: "messages", message: "at most 3 messages per add (got 4)" },
    });
    const tooLong = await postJson(
      "/v1/add",
      { user_id: "u", user_message: "y".repeat(150) },
      { ...CLOUD, MAX_MESSAGE_CHARS: "100" },
    );
    expect(tooLong.status).toBe(400);
    expect(upstream).toHaveLength(0);
  });

  it("answers 415 for a body type it does not read", async () => {
    const response = await call("/v1/add", {
      method: "POST",
      headers: authed({ "Content-Type": "application/octet-stream" }),
      body: "abc",
    });
    expect(response.status).toBe(415);
    expect(await json(response)).toMatchObject({ error: { code: "unsupported_media_type" } });
  });
});

describe("dedupe store failure", () => {
  it("never blocks an add: with KV down the add is made and the log line says so", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    const upstream = mockMemos(() => addAccepted());
    const down = async () => {
      throw new Error("KV unavailable");
    };
    const brokenKv = { get: down, put: down, delete: down, list: down, getWithMetadata: down };
    const response = await postJson("/v1/add", { user_id: "u", user_message: "hi" }, { ...CLOUD, DEDUPE: brokenKv });
    expect(response.status).toBe(200);
    expect(upstream).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ status: 200, store_error: expect.stringMatching(/^kv\./) });
  });
});

describe("per-token rate limit (Workers rate limiting binding)", () => {
  it("answers 429 rate_limited with Retry-After once a token is over its limit, per token", async () => {
    mockMemos(() => memosOk(searchData()));
    const tight = { ...CLOUD, RATE_LIMITER: env.TIGHT_RATE_LIMITER };
    const search = (token: string) =>
      call(
        "/v1/search",
        { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: '{"user_id":"u","query":"q"}' },
        tight,
      );
    expect((await search(TOKEN)).status).toBe(200);
    expect((await search(TOKEN)).status).toBe(200);
    const limited = await search(TOKEN);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(await json(limited)).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect((await search("second-token")).status).toBe(200);
  });
});

describe("CORS", () => {
  it("is off by default: no CORS headers, preflight not served", async () => {
    const response = await call("/v1/search", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST" },
    });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("serves the allow-listed origins only when CORS_ORIGINS is set", async () => {
    const on = { ...CLOUD, CORS_ORIGINS: "https://app.example, https://other.example" };
    const preflight = await call(
      "/v1/search",
      {
        method: "OPTIONS",
        headers: {
          Origin: "https://app.example",
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization,content-type",
        },
      },
      on,
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");

    mockMemos(() => memosOk(searchData()));
    const allowed = await call(
      "/v1/search",
      { method: "POST", headers: authed({ Origin: "https://other.example" }), body: '{"user_id":"u","query":"q"}' },
      on,
    );
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://other.example");
    const denied = await call("/health", { headers: { Origin: "https://evil.example" } }, on);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("logging", () => {
  it("writes one JSON line per request with id, route, status, duration, backend, dedupe and upstream status — and no secret or content", async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "warn").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);
    mockMemos(() => new Response("down", { status: 500 }));
    const secretText = "my bank PIN is 4921";
    const response = await postJson("/v1/add", { user_id: "u", user_message: secretText }, CLOUD, {
      "X-Request-Id": "req-abc",
    });
    expect(response.status).toBe(502);
    expect(response.headers.get("X-Request-Id")).toBe("req-abc");

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(entry).toMatchObject({
      request_id: "req-abc",
      route: "/v1/add",
      status: 502,
      backend: "memos",
      upstream_status: 500,
      error_code: "upstream_error",
    });
    expect(typeof entry.duration_ms).toBe("number");
    for (const line of lines) {
      for (const secret of [TOKEN, MEMOS_KEY, secretText]) expect(line).not.toContain(secret);
    }
  });

  it("records a dedupe hit and makes up a request id when none is sent", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    mockMemos(() => addAccepted());
    await postJson("/v1/add", { user_id: "u", user_message: "hi" });
    const replay = await postJson("/v1/add", { user_id: "u", user_message: "hi" });
    expect(replay.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.map((line) => JSON.parse(line).dedupe_hit)).toEqual([false, true]);
  });
});
