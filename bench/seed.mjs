/**
 * Seeds the embedded store (local D1) with deterministic memories: one
 * benchmark user plus other users' rows, so search has to filter by user as
 * it would in a shared deployment. Rows are written as SQL files of
 * multi-row INSERTs and applied with `wrangler d1 execute --local`; the FTS
 * index is filled by the table's insert trigger (migrations/0001_memories.sql).
 * Each user's rows go to their own rowid range, as the Worker places them
 * (migrations/0004_user_rowid_ranges.sql).
 *
 * The shared multi-user store (a million rows) is written straight into the
 * local D1 database file with node:sqlite instead: through wrangler it would
 * take minutes.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { wrangler } from "./processes.mjs";
import { prng, reply, sentence } from "./text.mjs";

export const BENCH_USER = "bench-user";
/** Other users' rows, as a share of the benchmark user's. */
const OTHER_USERS_SHARE = 0.25;
const OTHER_USERS = 40;
const ROWS_PER_INSERT = 250;
/** Rows per file; wrangler reads a file whole, so keep each one modest. */
const ROWS_PER_FILE = 25_000;
const BASE_TIME = Date.UTC(2025, 0, 1);
/** A user's rowid range (src/store/d1-backend.ts): slot × 2^28 + the row's index. */
const RANGE = 2 ** 28;
/** Slots of the scaling run: the benchmark user first, then the other users. */
const BENCH_SLOT = 1;
const otherSlot = (k) => k + 2;

const quote = (text) => `'${text.replaceAll("'", "''")}'`;

/**
 * Row `index` of one user's history. Even rows are what the user said, odd
 * rows the assistant's answer, like the two messages of one add. Derived from
 * the index alone, so seeding 1k then 9k more equals seeding 10k at once.
 */
function row(userId, index, slot) {
  const pair = Math.floor(index / 2);
  const random = prng(pair * 7919 + hash(userId));
  const said = sentence(random);
  const answered = reply(random);
  const isUser = index % 2 === 0;
  return [
    String(slot * RANGE + index),
    quote(`${userId}-${index.toString(36)}`),
    quote(userId),
    quote(`conv-${Math.floor(pair / 10)}`),
    quote(isUser ? "user" : "assistant"),
    quote(isUser ? said : answered),
    // One exchange a minute, so "newest first" ties resolve the same way on every run.
    String(BASE_TIME + pair * 60_000 + (isUser ? 0 : 1)),
  ];
}

function hash(text) {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** Rows [from, to) of the benchmark user, and the other users' share of the same range. */
function* rowsBetween(from, to) {
  for (let i = from; i < to; i++) yield row(BENCH_USER, i, BENCH_SLOT);
  const othersFrom = Math.floor(from * OTHER_USERS_SHARE);
  const othersTo = Math.floor(to * OTHER_USERS_SHARE);
  for (let i = othersFrom; i < othersTo; i++)
    yield row(`user-${i % OTHER_USERS}`, Math.floor(i / OTHER_USERS), otherSlot(i % OTHER_USERS));
}

/** Writes SQL files for rows [from, to); returns their paths. */
function writeSeedFiles(dir, from, to) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  // Idempotent, so every growth step can carry it.
  const slots = [
    [BENCH_USER, BENCH_SLOT],
    ...Array.from({ length: OTHER_USERS }, (_, k) => [`user-${k}`, otherSlot(k)]),
  ];
  let statements = [
    `INSERT OR IGNORE INTO user_slots (user_id, slot) VALUES ${slots.map(([u, s]) => `(${quote(u)}, ${s})`).join(", ")};`,
  ];
  let batch = [];
  let rowsInFile = 0;
  const flushInsert = () => {
    if (batch.length === 0) return;
    statements.push(
      `INSERT INTO memories (rowid, id, user_id, conversation_id, role, content, created_at) VALUES\n${batch.join(",\n")};`,
    );
    batch = [];
  };
  const flushFile = () => {
    flushInsert();
    if (statements.length === 0) return;
    const file = join(dir, `seed-${from}-${to}-${files.length}.sql`);
    writeFileSync(file, `${statements.join("\n")}\n`);
    files.push(file);
    statements = [];
    rowsInFile = 0;
  };
  for (const values of rowsBetween(from, to)) {
    batch.push(`(${values.join(", ")})`);
    rowsInFile += 1;
    if (batch.length === ROWS_PER_INSERT) flushInsert();
    if (rowsInFile === ROWS_PER_FILE) flushFile();
  }
  flushFile();
  return files;
}

/** `db`: the wrangler config and the --persist-to directory the Worker is served with. */
const d1Args = (db) => ["MEMORY_DB", "--local", "--config", db.config, "--persist-to", db.persistTo];

export async function migrate(db) {
  await wrangler(["d1", "migrations", "apply", ...d1Args(db)], { timeoutMs: 120_000 });
}

/** Grows the benchmark user's memories from `from` to `to` rows (plus the other users' share). */
export async function seed(db, sqlDir, from, to) {
  for (const file of writeSeedFiles(sqlDir, from, to)) {
    await wrangler(["d1", "execute", ...d1Args(db), "--file", file, "--yes"], { timeoutMs: 300_000 });
  }
}

/** The SQLite file of the local D1 database under a --persist-to directory (after `migrate`). */
export function d1File(persistTo) {
  const dir = join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.join(", ") || "none"}`);
  return join(dir, files[0]);
}

/**
 * Writes `users` ({ userId, slot, count }) into the migrated local D1 of `db`,
 * directly (no wrangler dev may be serving it meanwhile). Same rows as `seed`.
 */
export async function seedDirect(db, users) {
  const { DatabaseSync } = await import("node:sqlite");
  const sqlite = new DatabaseSync(d1File(db.persistTo));
  try {
    sqlite.exec("PRAGMA synchronous = OFF; PRAGMA cache_size = -400000;");
    const slot = sqlite.prepare("INSERT INTO user_slots (user_id, slot) VALUES (?, ?)");
    const insert = sqlite.prepare(
      "INSERT INTO memories (rowid, id, user_id, conversation_id, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const unquote = (text) => text.slice(1, -1).replaceAll("''", "'");
    sqlite.exec("BEGIN");
    let rows = 0;
    for (const user of users) {
      slot.run(user.userId, user.slot);
      for (let i = 0; i < user.count; i++) {
        const [rowid, id, userId, conversation, role, content, created] = row(user.userId, i, user.slot);
        insert.run(
          Number(rowid),
          unquote(id),
          unquote(userId),
          unquote(conversation),
          unquote(role),
          unquote(content),
          Number(created),
        );
        if (++rows % 50_000 === 0) {
          sqlite.exec("COMMIT");
          sqlite.exec("BEGIN");
        }
      }
    }
    sqlite.exec("COMMIT");
  } finally {
    sqlite.close();
  }
}
