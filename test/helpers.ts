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

/** One memory the fake MemOS holds (`fakeMemos`). */
export interface FakeMemory {
  id: string;
  user_id: string;
  conversation_id: string;
  agent_id: string | null;
  role: string;
  content: string;
  title: string;
  status: string;
  seq: number;
}

export interface FakeMemos {
  /** Every request that reached MemOS, in order. */
  calls: UpstreamCall[];
  memories: Map<string, FakeMemory>;
  /** Adds and feedback by task id. */
  tasks: Map<string, string>;
  /** How `GET get/memory/{id}` answers an unknown id: MemOS's 404 envelope, or 200 with `data: null`. */
  unknownId: "404" | "null";
}

/**
 * A small stand-in for MemOS's cloud memory-management API at the fetch
 * boundary: it keeps what is added, so list / read / delete / edit / status
 * behave like MemOS's, and records every request. Paths other than MemOS's
 * are answered 404 (a test asserting the upstream URLs would notice them).
 */
export function fakeMemos(): FakeMemos {
  const fake: FakeMemos = { calls: [], memories: new Map(), tasks: new Map(), unknownId: "404" };
  let seq = 0;
  const detail = (memory: FakeMemory) => ({
    id: memory.id,
    memory_key: memory.title,
    memory_value: memory.content,
    memory_type: "LongTermMemory",
    create_time: 1_766_494_800_000 + memory.seq,
    conversation_id: memory.conversation_id,
    status: memory.status,
    tags: [],
  });
  fake.calls = mockMemos(async (request) => {
    const url = new URL(request.url);
    const path = url.pathname.replace("/api/openmem/v1/", "");
    const body = (request.method === "POST" ? await request.clone().json() : {}) as Record<string, any>;
    if (request.method === "GET" && path.startsWith("get/memory/")) {
      const id = decodeURIComponent(path.slice("get/memory/".length));
      const memory = fake.memories.get(id);
      if (memory === undefined) {
        return fake.unknownId === "null"
          ? memosOk(null)
          : Response.json({ code: 40400, message: "memory not found", data: null }, { status: 404 });
      }
      return memosOk({
        id: memory.id,
        memory_view: "detail_factual",
        title: memory.title,
        content: memory.content,
        conversation_id: memory.conversation_id,
        message_ids: [],
        status: memory.status,
        created_at: 1_766_494_800_000 + memory.seq,
        updated_at: 1_766_494_800_000 + memory.seq,
        user_id: memory.user_id,
        agent_id: memory.agent_id,
        tags: [],
        info: {},
      });
    }
    switch (path) {
      case "add/message": {
        const taskId = `task-${++seq}`;
        const users: string[] = Array.isArray(body.user_id) ? body.user_id : [body.user_id];
        for (const user of users) {
          for (const message of body.messages as { role: string; content: string }[]) {
            const id = `mem-${++seq}`;
            fake.memories.set(id, {
              id,
              user_id: user,
              conversation_id: body.conversation_id ?? "conv-x",
              agent_id: body.agent_id ?? null,
              role: message.role,
              content: message.content,
              title: message.content.slice(0, 20),
              status: "activated",
              seq,
            });
          }
        }
        fake.tasks.set(taskId, "running");
        return memosOk({ success: true, task_id: taskId, status: "running" });
      }
      case "get/memory": {
        const owned = [...fake.memories.values()]
          .filter((m) => (body.user_id ? m.user_id === body.user_id : m.agent_id === body.agent_id))
          .sort((a, b) => b.seq - a.seq);
        const page = body.page ?? 1;
        const size = body.size ?? 10;
        return memosOk({
          memory_detail_list: owned.slice((page - 1) * size, page * size).map(detail),
          preference_detail_list: [],
          total: owned.length,
          size,
          current: page,
          pages: Math.ceil(owned.length / size),
        });
      }
      case "delete/memory": {
        for (const memory of [...fake.memories.values()]) {
          if (
            (body.memory_ids && body.memory_ids.includes(memory.id)) ||
            (body.user_id && memory.user_id === body.user_id) ||
            (body.agent_id && memory.agent_id === body.agent_id)
          ) {
            fake.memories.delete(memory.id);
          }
        }
        return memosOk({ success: true });
      }
      case "update/memory": {
        const memory = fake.memories.get(body.memory_id);
        if (memory === undefined) {
          return Response.json({ code: 40400, message: "memory not found", data: null }, { status: 404 });
        }
        if (body.content) memory.content = body.content;
        if (body.title) memory.title = body.title;
        if (body.status) memory.status = body.status;
        return memosOk({ success: true });
      }
      case "get/status": {
        const status = fake.tasks.get(body.task_id);
        // Older MemOS answers a one-item list.
        return status === undefined
          ? Response.json({ code: 40400, message: "task not found", data: null }, { status: 404 })
          : memosOk([{ status }]);
      }
      case "add/feedback": {
        const taskId = `task-${++seq}`;
        fake.tasks.set(taskId, "running");
        return memosOk({ success: true, task_id: taskId, status: "running" });
      }
      case "get/message": {
        const messages = [...fake.memories.values()]
          .filter((m) => m.user_id === body.user_id && m.conversation_id === body.conversation_id)
          .sort((a, b) => a.seq - b.seq)
          .slice(-(body.message_limit_number ?? 6))
          .map((m) => ({ role: m.role, content: m.content, create_time: "2026-11-26T10:00:00Z" }));
        return memosOk({ message_detail_list: messages });
      }
      default:
        return Response.json({ code: 40400, message: "no such path", data: null }, { status: 404 });
    }
  });
  return fake;
}

export type Kind = "cloud" | "embedded";
/** Both backends a capability must work on: MemOS cloud (mocked at the fetch boundary) and the embedded store. */
export const BACKENDS: [Kind, EnvOverrides][] = [
  ["cloud", CLOUD],
  ["embedded", LOCAL],
];

/** The cloud backend gets a fake MemOS; the embedded one must never call out. */
export function upstreamFor(kind: Kind): { calls: UpstreamCall[]; fake: FakeMemos | undefined } {
  if (kind === "cloud") {
    const fake = fakeMemos();
    return { calls: fake.calls, fake };
  }
  return { calls: mockMemos(() => new Response("must not be called", { status: 500 })), fake: undefined };
}
