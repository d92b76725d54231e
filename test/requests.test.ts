/** The request builders (`src/memos/requests.ts`), directly: what every surface hands a backend. */
import { describe, expect, it } from "vitest";
import { AppError } from "../src/http/errors";
import type { AddRequest, SearchRequest } from "../src/http/schemas";
import {
  DEFAULT_SOURCE,
  buildAddRequest,
  buildCompatAddRequest,
  buildCompatSearchRequest,
  buildSearchRequest,
  dropUndefined,
  mergeFilter,
  normalizeMessages,
} from "../src/memos/requests";

const LIMITS = { maxMessages: 5, maxMessageChars: 100 };
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function add(fields: Partial<AddRequest>) {
  return buildAddRequest({ user_id: "u-1", ...fields }, LIMITS);
}

function search(fields: Partial<SearchRequest>, maxLimit = 25, conditions?: Record<string, unknown>[]) {
  return buildSearchRequest({ user_id: "u-1", query: "hotel", ...fields }, maxLimit, conditions);
}

/** The AppError `build` throws. */
function refusal(build: () => unknown): AppError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected the builder to refuse the input");
}

/** Messages without their `chat_time`, to compare what was said. */
function said(messages: { chat_time?: string | undefined }[]) {
  return messages.map(({ chat_time: _time, ...message }) => message);
}

describe("buildAddRequest", () => {
  it("puts messages first, then user_message as a user turn and assistant_message as an assistant turn", () => {
    const { request } = add({
      messages: [{ role: "system", content: "Be brief." }],
      user_message: "I moved to Lisbon.",
      assistant_message: "Noted.",
    });
    expect(said(request.messages)).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "I moved to Lisbon." },
      { role: "assistant", content: "Noted." },
    ]);
  });

  it("reads the MemOS plugin 0.0.4 names user_messages and ai_messages as the same pair", () => {
    const { request } = add({ user_messages: "Hi", ai_messages: "Hello" });
    expect(said(request.messages)).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
    ]);
  });

  it("prefers user_message and assistant_message over the plugin names when both are sent", () => {
    const { request } = add({
      user_message: "ours",
      user_messages: "plugin's",
      assistant_message: "our answer",
      ai_messages: "plugin's answer",
    });
    expect(said(request.messages)).toEqual([
      { role: "user", content: "ours" },
      { role: "assistant", content: "our answer" },
    ]);
  });

  it("drops empty messages (blank text, an empty list of parts) instead of refusing the add", () => {
    const { request } = add({
      messages: [
        { role: "user", content: "   " },
        { role: "user", content: [] },
        { role: "user", content: [{ type: "text", text: "kept" }] },
      ],
      user_message: "kept too",
      assistant_message: "",
    });
    expect(said(request.messages)).toEqual([
      { role: "user", content: [{ type: "text", text: "kept" }] },
      { role: "user", content: "kept too" },
    ]);
  });

  it("refuses an add whose messages are all empty, naming the messages field", () => {
    const error = refusal(() => add({ messages: [{ role: "user", content: " " }], assistant_message: "" }));
    expect(error.code).toBe("invalid_request");
    expect(error.field).toBe("messages");
  });

  it("refuses an add with no message at all, naming the messages field", () => {
    const error = refusal(() => add({}));
    expect(error).toMatchObject({ code: "invalid_request", status: 400, field: "messages" });
  });

  it("stamps chat_time (ISO 8601 UTC, now) on messages without one and keeps the caller's", () => {
    const before = Date.now();
    const { request } = add({
      messages: [
        { role: "user", content: "then", chat_time: "2024-05-01T10:00:00+02:00" },
        { role: "user", content: "now" },
      ],
    });
    const after = Date.now();
    const [kept, stamped] = request.messages;
    expect(kept?.chat_time).toBe("2024-05-01T10:00:00+02:00");
    expect(stamped?.chat_time).toMatch(ISO_UTC);
    const time = Date.parse(stamped?.chat_time ?? "");
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it("refuses more messages than the limit, after empty ones are dropped", () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ role: "user" as const, content: `m${i}` }));
    expect(add({ messages: [...five, { role: "user", content: "" }] }).request.messages).toHaveLength(5);
    const error = refusal(() => add({ messages: [...five, { role: "user", content: "sixth" }] }));
    expect(error).toMatchObject({ code: "invalid_request", field: "messages" });
    expect(error.message).toContain("at most 5 messages");
  });

  it("refuses a message longer than the character limit, naming its index", () => {
    expect(add({ user_message: "x".repeat(100) }).request.messages).toHaveLength(1);
    const error = refusal(() => add({ messages: [{ role: "user", content: "ok" }], user_message: "x".repeat(101) }));
    expect(error).toMatchObject({ code: "invalid_request", field: "messages" });
    expect(error.message).toContain("messages[1] is 101 characters");
  });

  it("counts a list of parts by its JSON length against the character limit", () => {
    const parts = [{ type: "text", text: "y".repeat(90) }];
    expect(JSON.stringify(parts).length).toBeGreaterThan(100);
    const error = refusal(() => add({ messages: [{ role: "user", content: parts }] }));
    expect(error).toMatchObject({ code: "invalid_request", field: "messages" });
  });

  it("keeps role_id and role_name when given and leaves them out when not", () => {
    const { request } = add({
      messages: [
        { role: "user", content: "hi", role_id: "r-1", role_name: "Ann" },
        { role: "user", content: "yo", role_id: undefined },
      ],
    });
    expect(request.messages[0]).toMatchObject({ role_id: "r-1", role_name: "Ann" });
    expect(Object.keys(request.messages[1] ?? {}).sort()).toEqual(["chat_time", "content", "role"]);
  });

  it("sets source to memos-edge by default and keeps the caller's", () => {
    expect(DEFAULT_SOURCE).toBe("memos-edge");
    expect(add({ user_message: "hi" }).request.source).toBe("memos-edge");
    expect(add({ user_message: "hi", source: "my-app" }).request.source).toBe("my-app");
  });

  it("passes the other fields through, leaves absent ones out and keeps the idempotency key out of the body", () => {
    const built = add({
      conversation_id: "c-1",
      user_message: "hi",
      agent_id: "agent-1",
      app_id: undefined,
      tags: ["travel"],
      info: { city: "Lisbon" },
      async_mode: false,
      idempotency_key: "run-7",
    });
    expect(built.idempotencyKey).toBe("run-7");
    expect(built.request).toEqual({
      user_id: "u-1",
      conversation_id: "c-1",
      agent_id: "agent-1",
      tags: ["travel"],
      info: { city: "Lisbon" },
      async_mode: false,
      messages: [{ role: "user", content: "hi", chat_time: expect.stringMatching(ISO_UTC) }],
      source: "memos-edge",
    });
    expect(built.request).not.toHaveProperty("app_id");
    expect(built.request).not.toHaveProperty("user_message");
    expect(built.request).not.toHaveProperty("idempotency_key");
  });

  it("answers no idempotency key when none was sent", () => {
    expect(add({ user_message: "hi" }).idempotencyKey).toBeUndefined();
  });
});

describe("normalizeMessages", () => {
  it("stamps every message without a chat_time with the same given instant", () => {
    const now = new Date("2026-01-02T03:04:05.678Z");
    const messages = normalizeMessages(
      [
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
      ],
      LIMITS,
      now,
    );
    expect(messages.map((message) => message.chat_time)).toEqual([
      "2026-01-02T03:04:05.678Z",
      "2026-01-02T03:04:05.678Z",
    ]);
  });
});

describe("buildSearchRequest", () => {
  it("asks for the default top_k of 10, with preferences and source memos-edge, without warnings", () => {
    expect(search({})).toEqual({
      request: {
        user_id: "u-1",
        query: "hotel",
        memory_limit_number: 10,
        include_preference: true,
        source: "memos-edge",
      },
      warnings: [],
    });
  });

  it("keeps a top_k up to the backend's maximum without a warning", () => {
    expect(search({ top_k: 25 })).toMatchObject({ request: { memory_limit_number: 25 }, warnings: [] });
  });

  it("clamps a top_k above the backend's maximum and says so in a warning", () => {
    const { request, warnings } = search({ top_k: 40 }, 25);
    expect(request.memory_limit_number).toBe(25);
    expect(warnings).toEqual(["top_k 40 is above the backend's maximum of 25; 25 used"]);
  });

  it("clamps the default top_k too when the backend serves fewer", () => {
    const { request, warnings } = search({}, 5);
    expect(request.memory_limit_number).toBe(5);
    expect(warnings).toHaveLength(1);
  });

  it("keeps include_preference false and a caller's source", () => {
    const { request } = search({ include_preference: false, source: "my-app" });
    expect(request).toMatchObject({ include_preference: false, source: "my-app" });
  });

  it("ANDs agent_id, app_id and each tag as filter conditions instead of sending them as fields", () => {
    const { request } = search({ agent_id: "agent-1", app_id: "app-1", tags: ["travel", "food"] });
    expect(request.filter).toEqual({
      and: [
        { agent_id: "agent-1" },
        { app_id: "app-1" },
        { tags: { contains: "travel" } },
        { tags: { contains: "food" } },
      ],
    });
    expect(request).not.toHaveProperty("agent_id");
    expect(request).not.toHaveProperty("app_id");
    expect(request).not.toHaveProperty("tags");
    expect(request).not.toHaveProperty("top_k");
  });

  it("appends the named conditions to the caller's filter", () => {
    const { request } = search({ agent_id: "agent-1", filter: { and: [{ conversation_id: "c-1" }] } });
    expect(request.filter).toEqual({ and: [{ conversation_id: "c-1" }, { agent_id: "agent-1" }] });
  });

  it("ANDs extra conditions (e.g. Dify's metadata) after the ones the input names", () => {
    const { request } = search({ tags: ["travel"] }, 25, [{ create_time: { gte: "2025-01-01" } }]);
    expect(request.filter).toEqual({ and: [{ tags: { contains: "travel" } }, { create_time: { gte: "2025-01-01" } }] });
  });

  it("sends no filter when there is none and nothing to add", () => {
    expect(search({}).request).not.toHaveProperty("filter");
    expect(search({ tags: [] }).request).not.toHaveProperty("filter");
  });

  it("passes a caller filter through untouched when nothing is added to it", () => {
    const filter = { or: [{ agent_id: "a" }, { agent_id: "b" }] };
    expect(search({ filter }).request.filter).toEqual({ or: [{ agent_id: "a" }, { agent_id: "b" }] });
  });

  it("passes the other MemOS fields through and leaves absent ones out", () => {
    const { request } = search({
      conversation_id: "c-1",
      relativity: 0.4,
      preference_limit_number: 3,
      include_memory_view: ["preference"],
      knowledgebase_ids: undefined,
    });
    expect(request).toMatchObject({
      conversation_id: "c-1",
      relativity: 0.4,
      preference_limit_number: 3,
      include_memory_view: ["preference"],
    });
    expect(request).not.toHaveProperty("knowledgebase_ids");
  });
});

describe("mergeFilter", () => {
  const mine = [{ agent_id: "agent-1" }];

  it("returns the caller's filter unchanged when there are no conditions", () => {
    const filter = { or: [{ tags: { contains: "x" } }] };
    expect(mergeFilter(filter, [])).toBe(filter);
    expect(mergeFilter(undefined, [])).toBeUndefined();
  });

  it("makes an `and` of the conditions when the caller sent no filter", () => {
    expect(mergeFilter(undefined, mine)).toEqual({ and: [{ agent_id: "agent-1" }] });
  });

  it("appends the conditions to the caller's `and` list", () => {
    expect(mergeFilter({ and: [{ app_id: "app-1" }] }, mine)).toEqual({
      and: [{ app_id: "app-1" }, { agent_id: "agent-1" }],
    });
  });

  it("wraps the caller's `or` in the `and`, so the conditions hold for every alternative", () => {
    const or = [{ tags: { contains: "a" } }, { tags: { contains: "b" } }];
    expect(mergeFilter({ or }, mine)).toEqual({ and: [{ agent_id: "agent-1" }, { or }] });
  });

  it("keeps both the caller's `and` list and its `or` when it sent both", () => {
    const or = [{ app_id: "x" }, { app_id: "y" }];
    expect(mergeFilter({ and: [{ conversation_id: "c-1" }], or }, mine)).toEqual({
      and: [{ conversation_id: "c-1" }, { agent_id: "agent-1" }, { or }],
    });
  });

  it("keeps a condition the caller put at the root as one more term of the `and`", () => {
    expect(mergeFilter({ app_id: "app-1" }, mine)).toEqual({ and: [{ agent_id: "agent-1" }, { app_id: "app-1" }] });
  });

  it("leaves the caller's filter object as it was", () => {
    const filter = { and: [{ app_id: "app-1" }] };
    mergeFilter(filter, mine);
    expect(filter).toEqual({ and: [{ app_id: "app-1" }] });
  });
});

describe("buildCompatAddRequest (MemOS's own add body)", () => {
  it("folds the plugin 0.0.4 pair into messages after the ones sent, and stamps chat_time", () => {
    const request = buildCompatAddRequest(
      {
        user_id: "u-1",
        messages: [{ role: "user", content: "earlier", chat_time: "2025-01-01T00:00:00Z" }],
        user_messages: "Hi",
        ai_messages: "Hello",
      },
      LIMITS,
    );
    expect(request.messages).toEqual([
      { role: "user", content: "earlier", chat_time: "2025-01-01T00:00:00Z" },
      { role: "user", content: "Hi", chat_time: expect.stringMatching(ISO_UTC) },
      { role: "assistant", content: "Hello", chat_time: expect.stringMatching(ISO_UTC) },
    ]);
    expect(request).not.toHaveProperty("user_messages");
    expect(request).not.toHaveProperty("ai_messages");
  });

  it("drops the plugin's empty AI reply", () => {
    const request = buildCompatAddRequest({ user_id: "u-1", user_messages: "Hi", ai_messages: "" }, LIMITS);
    expect(said(request.messages)).toEqual([{ role: "user", content: "Hi" }]);
  });

  it("keeps the rest of MemOS's body as sent, leaves absent fields out and adds no source of its own", () => {
    const request = buildCompatAddRequest(
      { user_id: "u-1", conversation_id: "c-1", tags: ["a"], agent_id: undefined, user_messages: "Hi" },
      LIMITS,
    );
    expect(Object.keys(request).sort()).toEqual(["conversation_id", "messages", "tags", "user_id"]);
    expect(request).toMatchObject({ user_id: "u-1", conversation_id: "c-1", tags: ["a"] });
  });

  it("refuses an add with no message, and too many messages, naming the messages field", () => {
    expect(refusal(() => buildCompatAddRequest({ user_id: "u-1", ai_messages: " " }, LIMITS))).toMatchObject({
      code: "invalid_request",
      field: "messages",
    });
    const six = Array.from({ length: 6 }, () => ({ role: "user" as const, content: "m" }));
    expect(refusal(() => buildCompatAddRequest({ user_id: "u-1", messages: six }, LIMITS))).toMatchObject({
      code: "invalid_request",
      field: "messages",
    });
  });
});

describe("buildCompatSearchRequest (MemOS's own search body)", () => {
  it("keeps every field as sent, absent ones left out, and adds nothing", () => {
    const request = buildCompatSearchRequest({
      user_id: "u-1",
      query: "hotel",
      memory_limit_number: 7,
      filter: { and: [{ agent_id: "a" }] },
      conversation_id: undefined,
    });
    expect(request).toEqual({
      user_id: "u-1",
      query: "hotel",
      memory_limit_number: 7,
      filter: { and: [{ agent_id: "a" }] },
    });
    expect(request).not.toHaveProperty("conversation_id");
  });
});

describe("dropUndefined", () => {
  it("leaves out undefined fields and keeps null, false, 0 and empty strings", () => {
    const value = dropUndefined({ a: undefined, b: null, c: false, d: 0, e: "", f: [] });
    expect(value).toEqual({ b: null, c: false, d: 0, e: "", f: [] });
    expect(Object.keys(value)).toEqual(["b", "c", "d", "e", "f"]);
  });
});
