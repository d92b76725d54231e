/** The dedupe identity of an add (`src/dedupe/fingerprint.ts`), directly. */
import { describe, expect, it } from "vitest";
import { addFingerprint, canonicalJson } from "../src/dedupe/fingerprint";
import type { MemosAddRequest } from "../src/memos/types";

describe("canonicalJson", () => {
  it("writes the same text whatever order the keys were given in", () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ a: 2, b: 1 })).toBe(canonicalJson({ b: 1, a: 2 }));
  });

  it("sorts keys by code unit, not by locale", () => {
    expect(canonicalJson({ b: 1, a: 2, B: 3, ä: 4, _: 5 })).toBe('{"B":3,"_":5,"a":2,"b":1,"ä":4}');
  });

  it("sorts the keys of nested objects, including objects inside arrays, and keeps array order", () => {
    const value = { z: [{ y: 1, x: [3, { d: 1, c: 2 }] }, "s"], a: null };
    expect(canonicalJson(value)).toBe('{"a":null,"z":[{"x":[3,{"c":2,"d":1}],"y":1},"s"]}');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it("leaves out undefined fields, as JSON.stringify does", () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it("writes undefined in a list, and undefined itself, as null", () => {
    expect(canonicalJson([1, undefined])).toBe("[1,null]");
    expect(canonicalJson(undefined)).toBe("null");
  });

  it("escapes strings and keys as JSON, so no value can forge structure", () => {
    const value = { 'k"ey': 'a"b\\c\n', "a,b": '","x":"' };
    const text = canonicalJson(value);
    expect(text).toBe('{"a,b":"\\",\\"x\\":\\"","k\\"ey":"a\\"b\\\\c\\n"}');
    expect(JSON.parse(text)).toEqual(value);
    expect(canonicalJson({ a: '","b":"' })).not.toBe(canonicalJson({ a: "", b: "" }));
  });

  it("writes numbers, booleans, null and non-ASCII text as JSON does", () => {
    const value = { n: 0.5, i: -3, t: true, f: false, z: null, s: "你好 🎉" };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
    expect(canonicalJson("你好")).toBe('"你好"');
  });
});

describe("addFingerprint", () => {
  const base: MemosAddRequest = {
    user_id: "u-1",
    conversation_id: "c-1",
    agent_id: "agent-1",
    tags: ["travel"],
    info: { city: "Lisbon" },
    messages: [
      { role: "user", content: "I moved to Lisbon.", chat_time: "2026-01-01T00:00:00.000Z" },
      { role: "assistant", content: "Noted.", chat_time: "2026-01-01T00:00:01.000Z" },
    ],
    source: "memos-edge",
  };

  it("is a SHA-256 hex digest", async () => {
    expect(await addFingerprint(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("ignores each message's chat_time (the plugin stamps a fresh one on every retry)", async () => {
    const retry = {
      ...base,
      messages: base.messages.map((message) => ({ ...message, chat_time: "2026-11-26T10:00:00.123456+00:00" })),
    };
    const untimed = { ...base, messages: base.messages.map(({ chat_time: _time, ...message }) => message) };
    expect(await addFingerprint(retry)).toBe(await addFingerprint(base));
    expect(await addFingerprint(untimed)).toBe(await addFingerprint(base));
  });

  it("ignores source", async () => {
    const { source: _source, ...unsourced } = base;
    expect(await addFingerprint({ ...base, source: "other-app" })).toBe(await addFingerprint(base));
    expect(await addFingerprint(unsourced)).toBe(await addFingerprint(base));
  });

  it("does not depend on the order of fields", async () => {
    const reordered: MemosAddRequest = {
      source: "memos-edge",
      messages: base.messages.map(({ content, chat_time, role }) => ({ content, chat_time, role })),
      info: { city: "Lisbon" },
      tags: ["travel"],
      agent_id: "agent-1",
      conversation_id: "c-1",
      user_id: "u-1",
    };
    expect(await addFingerprint(reordered)).toBe(await addFingerprint(base));
  });

  it.each<[string, Partial<MemosAddRequest>]>([
    ["other tags", { tags: ["food"] }],
    ["an added tag", { tags: ["travel", "food"] }],
    ["another agent", { agent_id: "agent-2" }],
    ["another app", { app_id: "app-1" }],
    ["other info", { info: { city: "Porto" } }],
    ["another user", { user_id: "u-2" }],
    ["another conversation", { conversation_id: "c-2" }],
    ["a MemOS field it does not know", { allow_public: true }],
  ])("tells apart an add with %s", async (_name, change) => {
    expect(await addFingerprint({ ...base, ...change })).not.toBe(await addFingerprint(base));
  });

  it("tells apart an add whose message has another role, other content or another position", async () => {
    const [said, answered] = base.messages as [
      MemosAddRequest["messages"][number],
      MemosAddRequest["messages"][number],
    ];
    const fingerprint = await addFingerprint(base);
    expect(await addFingerprint({ ...base, messages: [{ ...said, role: "system" }, answered] })).not.toBe(fingerprint);
    expect(await addFingerprint({ ...base, messages: [{ ...said, content: "I moved to Porto." }, answered] })).not.toBe(
      fingerprint,
    );
    expect(await addFingerprint({ ...base, messages: [answered, said] })).not.toBe(fingerprint);
    expect(await addFingerprint({ ...base, messages: [said] })).not.toBe(fingerprint);
  });

  it("tells apart group-chat speakers (role_id, role_name)", async () => {
    const [said, answered] = base.messages as [
      MemosAddRequest["messages"][number],
      MemosAddRequest["messages"][number],
    ];
    const fingerprint = await addFingerprint(base);
    expect(await addFingerprint({ ...base, messages: [{ ...said, role_id: "r-1" }, answered] })).not.toBe(fingerprint);
    expect(await addFingerprint({ ...base, messages: [{ ...said, role_name: "Ann" }, answered] })).not.toBe(
      fingerprint,
    );
  });
});
