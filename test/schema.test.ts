/**
 * The embedded store brings its own D1 schema up (src/store/schema.ts): a bare
 * `wrangler dev`, a fresh deploy or a database made by hand serve at once, and
 * wrangler's `d1_migrations` bookkeeping stays true, so `wrangler d1 migrations
 * apply` finds nothing left to do.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATIONS, applyMigrations, splitStatements } from "../src/store/schema";
import { LOCAL, authed, call, json } from "./helpers";

const tables = async (db: D1Database) =>
  (
    await db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      )
      .all<{ name: string }>()
  ).results.map(({ name }) => name);

const recorded = async (db: D1Database) =>
  (await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>()).results.map(
    ({ name }) => name,
  );

const normalised = (sql: string) =>
  sql
    .replace(/--[^\n]*/g, "")
    .replace(/\s+/g, " ")
    .replace(/\s*;\s*$/, "")
    .trim();

describe("the migration list", () => {
  it("names every file of migrations/, in wrangler's order", () => {
    // TEST_MIGRATIONS is read from the directory by vitest.config.ts (readD1Migrations, wrangler's reader).
    expect(MIGRATIONS.map(({ name }) => name)).toEqual(env.TEST_MIGRATIONS.map(({ name }) => name));
  });

  it("carries each file's statements, split as wrangler splits them", () => {
    for (const [index, migration] of MIGRATIONS.entries()) {
      const wrangler = env.TEST_MIGRATIONS[index]?.queries.map(normalised).filter((query) => query !== "");
      expect(splitStatements(migration.sql).map(normalised)).toEqual(wrangler);
    }
  });

  it("keeps semicolons inside quotes, comments and trigger bodies", () => {
    const sql = `-- a comment; with a semicolon
      CREATE TABLE t (a TEXT DEFAULT 'x;y', "b;c" TEXT); /* block; comment */
      CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN
        UPDATE t SET a = CASE WHEN new.a = 'it''s' THEN 'z' ELSE a END;
        DELETE FROM t WHERE a = ';';
      END;
      CREATE INDEX t_a ON t (a)`;
    expect(splitStatements(sql).map(normalised)).toEqual([
      `CREATE TABLE t (a TEXT DEFAULT 'x;y', "b;c" TEXT)`,
      `CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN new.a = 'it''s' THEN 'z' ELSE a END; DELETE FROM t WHERE a = ';'; END`,
      "CREATE INDEX t_a ON t (a)",
    ]);
  });
});

describe("an empty database", () => {
  it("serves a bare first add and search, and records every migration as wrangler would", async () => {
    const db = env.EMPTY_DB;
    expect(await tables(db)).toEqual([]);
    const bindings = { ...LOCAL, MEMORY_DB: db };

    const add = await call(
      "/v1/add",
      {
        method: "POST",
        headers: authed(),
        body: new URLSearchParams({ user_id: "ann", user_message: "我最喜欢的水果是芒果" }),
      },
      bindings,
    );
    expect(add.status).toBe(200);
    const search = await call(
      "/v1/search",
      { method: "POST", headers: authed(), body: new URLSearchParams({ user_id: "ann", query: "喜欢的水果" }) },
      bindings,
    );
    expect(await json(search)).toMatchObject({ ok: true, count: 1 });

    expect(await recorded(db)).toEqual(env.TEST_MIGRATIONS.map(({ name }) => name));
    // wrangler's own apply (the pool's applyD1Migrations reads the same table) finds nothing to do:
    // re-running 0001 would fail on "table memories already exists".
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    expect(await recorded(db)).toHaveLength(MIGRATIONS.length);
  });

  it("is brought up once when several isolates race, and a migrated database is left alone", async () => {
    const db = env.RACE_DB;
    const applied = await Promise.all([applyMigrations(db), applyMigrations(db), applyMigrations(db)]);
    // Each migration was applied by exactly one of the racers; the others found it recorded.
    expect(applied.flat().sort()).toEqual(MIGRATIONS.map(({ name }) => name));
    expect(await recorded(db)).toEqual(MIGRATIONS.map(({ name }) => name));
    expect(await applyMigrations(db)).toEqual([]);
  });

  it("applies only the migrations a database lacks", async () => {
    // MEMORY_DB was migrated by the pool's applyD1Migrations (test/setup.ts), wrangler's bookkeeping.
    expect(await applyMigrations(env.MEMORY_DB)).toEqual([]);
    const later = { name: "9999_later.sql", sql: "CREATE TABLE later (id INTEGER PRIMARY KEY);" };
    expect(await applyMigrations(env.MEMORY_DB, [...MIGRATIONS, later])).toEqual(["9999_later.sql"]);
    expect(await tables(env.MEMORY_DB)).toContain("later");
    await env.MEMORY_DB.batch([
      env.MEMORY_DB.prepare("DROP TABLE later"),
      env.MEMORY_DB.prepare("DELETE FROM d1_migrations WHERE name = ?").bind(later.name),
    ]);
  });

  it("answers 503 store_unavailable, and tries again next time, when the schema cannot be brought up", async () => {
    let attempts = 0;
    const broken = {
      prepare: env.RACE_DB.prepare.bind(env.RACE_DB),
      batch: () => {
        attempts += 1;
        return Promise.reject(new Error("D1_ERROR: simulated outage"));
      },
    } as unknown as D1Database;
    const search = () =>
      call(
        "/v1/search",
        { method: "POST", headers: authed(), body: new URLSearchParams({ user_id: "ann", query: "fruit" }) },
        { ...LOCAL, MEMORY_DB: broken },
      );
    expect(await json(await search())).toMatchObject({ error: { code: "store_unavailable" } });
    expect((await search()).status).toBe(503);
    expect(attempts).toBe(2);
  });
});
