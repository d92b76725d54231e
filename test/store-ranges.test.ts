/**
 * The embedded store keeps each user's memories in a rowid range of their own
 * (migrations/0004_user_rowid_ranges.sql): what that design could break.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MemosSearchRequest } from "../src/memos/types";
import { D1Backend } from "../src/store/d1-backend";
import { StoreError } from "../src/store/errors";

const RANGE = 2 ** 28;
/** scanMaxRows 0 sends every search through the FTS index; the default scans small histories. */
const indexed = (db = env.MEMORY_DB, recentWindow = 20_000) => new D1Backend(db, { recentWindow, scanMaxRows: 0 });
const scanned = (db = env.MEMORY_DB) => new D1Backend(db, { recentWindow: 20_000 });

async function addTo(backend: D1Backend, userId: string | string[], ...contents: string[]) {
  await backend.add({ user_id: userId, messages: contents.map((content) => ({ role: "user", content })) });
}

async function contentsFound(backend: D1Backend, request: MemosSearchRequest): Promise<string[]> {
  const { data } = await backend.search({ memory_limit_number: 10, ...request });
  return (data.memory_detail_list ?? []).map((memory) => String(memory.memory_value));
}

interface Placed {
  rowid: number;
  user_id: string;
  slot: number;
}

async function placements(db = env.MEMORY_DB): Promise<Placed[]> {
  const { results } = await db
    .prepare(
      "SELECT m.rowid AS rowid, m.user_id, s.slot FROM memories m JOIN user_slots s USING (user_id) ORDER BY m.rowid",
    )
    .all<Placed>();
  return results;
}

describe("embedded store: one rowid range per user", () => {
  it("keeps every user's rows inside their own range, in the order they were added", async () => {
    const store = scanned();
    await addTo(store, "ann", "ann one");
    await addTo(store, "ben", "ben one");
    await addTo(store, ["ann", "ben", "ann"], "shared note", "second note");
    await addTo(store, "ann", "ann last");
    const rows = await placements();
    expect(rows).toHaveLength(7);
    const slots = new Map(rows.map((row) => [row.user_id, row.slot]));
    expect(new Set(slots.values()).size).toBe(2);
    for (const row of rows) {
      expect(row.rowid).toBeGreaterThanOrEqual(row.slot * RANGE);
      expect(row.rowid).toBeLessThan((row.slot + 1) * RANGE);
    }
    const ann = rows.filter((row) => row.user_id === "ann").map((row) => row.rowid - row.slot * RANGE);
    expect(ann).toEqual([0, 1, 2, 3]);
  });

  it.each([
    ["the FTS index", indexed],
    ["a scan of the range", scanned],
  ])("never shows one user's rows to another, through %s", async (_path, make) => {
    const store = make();
    for (let i = 0; i < 3; i++) {
      await addTo(store, "ann", `ann walks the lighthouse path ${i}`);
      await addTo(store, "ben", `ben walks the lighthouse path ${i}`);
    }
    const ann = await contentsFound(store, { user_id: "ann", query: "lighthouse path" });
    const ben = await contentsFound(store, { user_id: "ben", query: "lighthouse path" });
    expect(ann).toHaveLength(3);
    expect(ann.every((content) => content.startsWith("ann "))).toBe(true);
    expect(ben).toHaveLength(3);
    expect(ben.every((content) => content.startsWith("ben "))).toBe(true);
    expect(await contentsFound(store, { user_id: "cy", query: "lighthouse path" })).toEqual([]);
  });

  it("searches a user with more rows than the recent window: newest first, then the rest", async () => {
    const store = indexed(env.MEMORY_DB, 3);
    await addTo(store, "win", "heron over the old harbour", "unrelated one");
    await addTo(store, "other", "heron for someone else");
    await addTo(store, "win", "a heron today", "heron again", "unrelated two", "unrelated three");
    // The window (3 newest) holds one heron; the limit of 2 reaches into older history.
    const two = await contentsFound(store, { user_id: "win", query: "heron", memory_limit_number: 2 });
    expect(two).toHaveLength(2);
    expect(two).toContain("heron again");
    // An old memory holding every term beats newer partial matches.
    const best = await contentsFound(store, { user_id: "win", query: "heron harbour" });
    expect(best[0]).toBe("heron over the old harbour");
    expect(best).not.toContain("heron for someone else");
  });

  it("finds a rare word's old memory through the index when newer memories match a common word", async () => {
    const store = indexed();
    await addTo(store, "crowd", "jasmine tea in Kyoto");
    await addTo(store, "crowd", ...Array.from({ length: 30 }, (_, i) => `morning walk number ${i}`));
    const found = await contentsFound(store, { user_id: "crowd", query: "jasmine morning", memory_limit_number: 3 });
    expect(found).toHaveLength(3);
    expect(found[0]).toBe("jasmine tea in Kyoto");
    // The common word's matches come newest first.
    expect(found.slice(1)).toEqual(["morning walk number 29", "morning walk number 28"]);
  });

  it("ranks and scores memories holding every term the same through the index as through a scan: newest first, 1", async () => {
    const contents = ["heron by the harbour", "a heron flew over the harbour at dawn today", "harbour heron"];
    const found = async (store: D1Backend) => {
      await addTo(store, "both", ...contents);
      const { data } = await store.search({ user_id: "both", query: "heron harbour", memory_limit_number: 10 });
      await env.MEMORY_DB.prepare("DELETE FROM memories WHERE user_id = 'both'").run();
      return (data.memory_detail_list ?? []).map((memory) => [memory.memory_value, memory.relativity]);
    };
    const throughIndex = await found(indexed());
    expect(throughIndex).toEqual([
      ["harbour heron", 1],
      ["a heron flew over the harbour at dawn today", 1],
      ["heron by the harbour", 1],
    ]);
    expect(await found(scanned())).toEqual(throughIndex);
  });

  it("fails the whole add, storing nothing, when a user's range is full", async () => {
    const store = scanned();
    await addTo(store, "full", "first");
    const slot = (await env.MEMORY_DB.prepare("SELECT slot FROM user_slots WHERE user_id = 'full'").first<number>(
      "slot",
    ))!;
    await env.MEMORY_DB.prepare(
      "INSERT INTO memories (rowid, id, user_id, conversation_id, role, content, created_at) VALUES (?, 'last', 'full', 'c', 'user', 'end of range', 0)",
    )
      .bind((slot + 1) * RANGE - 1)
      .run();
    await expect(addTo(store, ["full", "roomy"], "one", "two")).rejects.toBeInstanceOf(StoreError);
    const count = await env.MEMORY_DB.prepare("SELECT COUNT(*) AS n FROM memories").first<number>("n");
    expect(count).toBe(2);
  });
});

describe("migration 0004: existing memories move into ranges", () => {
  it("keeps ids, contents and order, and every row stays searchable", async () => {
    const db = env.MIGRATION_DB;
    const before = env.TEST_MIGRATIONS.filter((migration) => migration.name < "0004");
    expect(before.length).toBeGreaterThan(0);
    await applyD1Migrations(db, before);
    const insert = db.prepare(
      "INSERT INTO memories (id, user_id, conversation_id, role, content, created_at) VALUES (?, ?, 'c', 'user', ?, ?)",
    );
    const old = [
      ["m1", "ann", "ann likes green tea"],
      ["m2", "ben", "ben likes green tea too"],
      ["m3", "ann", "ann moved to Lisbon"],
      ["m4", "cy", "我最喜欢的水果是芒果"],
      ["m5", "ben", "ben plays chess"],
    ] as const;
    await db.batch(old.map(([id, user, content], index) => insert.bind(id, user, content, index)));

    await applyD1Migrations(db, env.TEST_MIGRATIONS);

    const rows = await placements(db);
    expect(rows).toHaveLength(old.length);
    for (const row of rows) {
      expect(row.rowid).toBeGreaterThanOrEqual(row.slot * RANGE);
      expect(row.rowid).toBeLessThan((row.slot + 1) * RANGE);
    }
    const { results } = await db
      .prepare("SELECT id, user_id, content FROM memories ORDER BY user_id, rowid")
      .all<{ id: string; user_id: string; content: string }>();
    expect(results.map((row) => row.id)).toEqual(["m1", "m3", "m2", "m5", "m4"]);
    const { results: indexedRows } = await db
      .prepare("SELECT rowid FROM memories_fts WHERE memories_fts MATCH '\"green tea\"' ORDER BY rowid")
      .all<{ rowid: number }>();
    expect(indexedRows).toHaveLength(2);

    for (const store of [indexed(db), scanned(db)]) {
      expect(await contentsFound(store, { user_id: "ann", query: "green tea" })).toEqual(["ann likes green tea"]);
      expect(await contentsFound(store, { user_id: "ben", query: "chess" })).toEqual(["ben plays chess"]);
      expect(await contentsFound(store, { user_id: "cy", query: "芒果" })).toEqual(["我最喜欢的水果是芒果"]);
    }
    // New adds continue each user's range after the moved rows.
    await addTo(scanned(db), "ann", "ann adopted a cat");
    const ann = (await placements(db)).filter((row) => row.user_id === "ann");
    expect(ann.map((row) => row.rowid - row.slot * RANGE)).toEqual([0, 1, 2]);
  });
});
