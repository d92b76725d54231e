/**
 * The shared test support module. Requests go through the real Worker
 * (`src/index.ts`) with the real KV and D1 of the pool; only the MemOS upstream
 * is mocked, at the fetch boundary, and every request that reached it is
 * recorded for assertions. Builders that more than one test file needs (bodies
 * as Python sends them, dedupe records, caller ids) live here, once.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import app from "../src/index";
import { sha256Hex } from "../src/lib/digest";

export const TOKEN = "test-token";
export const MEMOS_KEY = "mk-test-secret-0123456789";
export const MEMOS_BASE = "https://memos.memtensor.cn/api/openmem/v1";
export const ORIGIN = "https://memos-edge.example.workers.dev";

/** Bindings that select the MemOS cloud backend. */
export const CLOUD = { MEMOS_API_KEY: MEMOS_KEY } as const;
/** Bindings that select the embedded store. */
export const LOCAL = { MEMOS_API_KEY: undefined } as const;

export type EnvOverrides = Partial<Record<string, unknown>>;

export async function call(path: string, init: RequestInit = {}, overrides: EnvOverrides = CLOUD): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function authed(headers: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${TOKEN}`, ...headers };
}

export function postJson(
  path: string,
  body: unknown,
  overrides: EnvOverrides = CLOUD,
  headers: Record<string, string> = {},
) {
  return call(
    path,
    { method: "POST", headers: authed({ "Content-Type": "application/json", ...headers }), body: JSON.stringify(body) },
    overrides,
  );
}

export interface UpstreamCall {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

type Handler = (request: Request, index: number) => Response | Promise<Response>;

/** Replaces global fetch for this test; returns the list of requests MemOS received. */
export function mockMemos(handler: Handler): UpstreamCall[] {
  const calls: UpstreamCall[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const text = await request.clone().text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep text
    }
    calls.push({ url: request.url, method: request.method, headers: request.headers, body });
    return handler(request, calls.length - 1);
  });
  return calls;
}

export function memosOk(data: unknown = {}): Response {
  return Response.json({ code: 0, message: "ok", data });
}

export const addAccepted = () => memosOk({ success: true, task_id: "task-1", status: "running" });

export function searchData() {
  return {
    memory_detail_list: [
      {
        id: "mem-1",
        memory_key: "Summer trip",
        memory_value: "The user plans to visit Guangzhou this summer.",
        memory_type: "WorkingMemory",
        create_time: 1766494806624,
        conversation_id: "0610",
        relativity: 0.83,
      },
    ],
    preference_detail_list: [
      {
        id: "pref-1",
        preference_type: "implicit_preference",
        preference: "The user likely prefers good-value hotels.",
        reasoning: "chose 7 Days Inn",
        conversation_id: "0610",
      },
    ],
  };
}

/**
 * Python's `json.dumps(value)` with its defaults, byte for byte (what Dify's custom
 * tools and External Knowledge, and the MemOS plugin's `requests.post(json=...)`,
 * send): `", "` and `": "` separators, ASCII only.
 */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`)
      .join(", ")}}`;
  }
  if (typeof value === "string") {
    // ensure_ascii escapes everything outside printable ASCII, one \uxxxx per UTF-16 unit (lower-case hex).
    return JSON.stringify(value).replace(
      /[^\x20-\x7e]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  return JSON.stringify(value);
}

/** Names of the dedupe records in KV (the DEDUPE namespace holds nothing else). */
export async function dedupeKeys(): Promise<string[]> {
  return (await env.DEDUPE.list()).keys.map((key) => key.name);
}

/** The non-secret id memos-edge derives from a caller token; it scopes the caller's dedupe records. */
export async function callerId(token: string): Promise<string> {
  return (await sha256Hex(`caller:${token}`)).slice(0, 16);
}

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
