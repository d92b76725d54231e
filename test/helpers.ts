/**
 * Test helpers. Requests go through the real Worker (`src/index.ts`) with the
 * real KV and D1 of the pool; only the MemOS upstream is mocked, at the fetch
 * boundary, and every request that reached it is recorded for assertions.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import app from "../src/index";

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

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
