/**
 * MCP's memory-management tools (list_memories, delete_memory, forget_user)
 * through the official SDK client, on both backends.
 */
import { describe, expect, it } from "vitest";
import { CLOUD, LOCAL, MEMOS_BASE, addAccepted, memosOk, mockMemos, postJson } from "./helpers";
import { callTool, connect, textOf } from "./mcp-client";

describe("MCP memory management on the embedded store", () => {
  it("lists the fixed user's memories with ids, deletes one by id, and forgets the rest after a dry run", async () => {
    await postJson("/v1/add", { user_id: "alice", user_message: "I live in Porto" }, LOCAL);
    await postJson("/v1/add", { user_id: "alice", user_message: "I play the cello" }, LOCAL);
    await postJson("/v1/add", { user_id: "bob", user_message: "I live in Lyon" }, LOCAL);
    const client = await connect({ query: "?user_id=alice", overrides: LOCAL });

    const listed = await callTool(client, "list_memories", {});
    expect(listed.isError).toBeFalsy();
    const { memories, total } = listed.structuredContent as {
      memories: { id: string; content: string }[];
      total: number;
    };
    expect(total).toBe(2);
    expect(memories.map((memory) => memory.content)).toEqual(["I play the cello", "I live in Porto"]);
    expect(textOf(listed)).toContain(memories[0]?.id ?? "missing");

    const cello = memories[0]?.id ?? "";
    const removed = await callTool(client, "delete_memory", { memory_ids: [cello] });
    expect(removed.isError).toBeFalsy();
    expect(removed.structuredContent).toEqual({ deleted: 1 });

    const dry = await callTool(client, "forget_user", { dry_run: true });
    expect(dry.structuredContent).toMatchObject({ dry_run: true, would_delete: 1 });
    expect(textOf(dry)).toContain("Nothing was deleted");
    const forgotten = await callTool(client, "forget_user", { dry_run: false });
    expect(forgotten.structuredContent).toMatchObject({ dry_run: false, deleted: 1 });
    expect((await callTool(client, "list_memories", {})).structuredContent).toMatchObject({ total: 0 });
    await client.close();

    // Bob's memory was never touched.
    const bob = await connect({ query: "?user_id=bob", overrides: LOCAL });
    expect((await callTool(bob, "list_memories", {})).structuredContent).toMatchObject({ total: 1 });
    await bob.close();
  });

  it("never deletes another user's memory by id, even when a model names it", async () => {
    await postJson("/v1/add", { user_id: "bob", user_message: "bob's secret" }, LOCAL);
    const bob = await connect({ query: "?user_id=bob", overrides: LOCAL });
    const bobsId = ((await callTool(bob, "list_memories", {})).structuredContent as { memories: { id: string }[] })
      .memories[0]?.id;
    const alice = await connect({ query: "?user_id=alice", overrides: LOCAL });
    const attempt = await callTool(alice, "delete_memory", { memory_ids: [bobsId], user_id: "bob" });
    expect(attempt.structuredContent).toEqual({ deleted: 0 });
    expect((await callTool(bob, "list_memories", {})).structuredContent).toMatchObject({ total: 1 });
    await alice.close();
    await bob.close();
  });

  it("marks the tools that remove memories as destructive", async () => {
    const client = await connect({ overrides: LOCAL });
    const { tools } = await client.listTools();
    const hints = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations?.destructiveHint ?? false]));
    expect(hints).toMatchObject({ list_memories: false, delete_memory: true, forget_user: true });
    expect(tools.find((tool) => tool.name === "list_memories")?.annotations?.readOnlyHint).toBe(true);
    await client.close();
  });
});

describe("MCP memory management on MemOS", () => {
  it("lists through get/memory and forgets through delete/memory with the real key", async () => {
    const upstream = mockMemos((request) => {
      if (request.url.endsWith("/get/memory")) {
        return memosOk({
          memory_detail_list: [{ id: "m1", memory_key: "Home", memory_value: "Lives in Porto", create_time: 1 }],
          total: 1,
          size: 10,
          current: 1,
          pages: 1,
        });
      }
      if (request.url.endsWith("/delete/memory")) return memosOk({ success: true });
      return addAccepted();
    });
    const client = await connect({ query: "?user_id=alice", overrides: CLOUD });
    const listed = await callTool(client, "list_memories", { size: 5 });
    expect(listed.structuredContent).toMatchObject({ total: 1, memories: [{ id: "m1", content: "Lives in Porto" }] });
    const forgotten = await callTool(client, "forget_user", { dry_run: false });
    expect(forgotten.isError).toBeFalsy();
    expect(upstream.map((sent) => [sent.url, sent.body])).toEqual([
      [`${MEMOS_BASE}/get/memory`, { user_id: "alice", page: 1, size: 5 }],
      [`${MEMOS_BASE}/delete/memory`, { user_id: "alice" }],
    ]);
    expect(upstream[1]?.headers.get("Authorization")).toBe(`Token ${"mk-test-secret-0123456789"}`);
    await client.close();
  });

  it("turns MemOS being down into a tool error, never a protocol failure", async () => {
    mockMemos(() => new Response("down", { status: 503 }));
    const client = await connect({ query: "?user_id=alice", overrides: CLOUD });
    const result = await callTool(client, "list_memories", {});
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("upstream_error");
    await client.close();
  });
});
