import { describe, expect, it } from "vitest";
import pkg from "../package.json";
import { VERSION } from "../src/version";
import { CLOUD, LOCAL, MEMOS_KEY, call, json } from "./helpers";

describe("GET /health", () => {
  it("reports the MemOS backend when a key is configured, without auth and without secrets", async () => {
    const response = await call("/health", {}, CLOUD);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ ok: true, backend: "memos", version: VERSION });
    expect(text).not.toContain(MEMOS_KEY);
    expect(text).not.toContain("test-token");
  });

  it("reports the embedded store when no MemOS key is set", async () => {
    expect(await json(await call("/health", {}, LOCAL))).toMatchObject({ backend: "local" });
  });

  it("reports the self-hosted MemOS server when MEMOS_SERVER_URL is set, even with a cloud key", async () => {
    const response = await call("/health", {}, { ...CLOUD, MEMOS_SERVER_URL: "http://memos.internal:8001" });
    expect(await json(response)).toEqual({ ok: true, backend: "memos-server", version: VERSION });
  });

  it("keeps the version in step with package.json", () => {
    expect(VERSION).toBe(pkg.version);
  });

  it("answers 405 JSON for another method", async () => {
    const response = await call("/health", { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(await json(response)).toMatchObject({ ok: false, error: { code: "method_not_allowed" } });
  });
});
