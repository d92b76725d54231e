/**
 * Seeds the embedded store (local D1) with deterministic memories: one
 * benchmark user plus other users' rows, so search has to filter by user as
 * it would in a shared deployment. Rows are written as SQL files of
 * multi-row INSERTs and applied with `wrangler d1 execute --local`; the FTS
 * index is filled by the table's insert trigger (migrations/0001_memories.sql).
 */
import { mkdirSync, writeFileSync } from "node:fs";
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

const quote = (text) => `'${text.replaceAll("'", "''")}'`;

/**
 * Row `index` of one user's history. Even rows are what the user said, odd
 * rows the assistant's answer, like the two messages of one add. Derived from
 * the index alone, so seeding 1k then 9k more equals seeding 10k at once.
 */
function row(userId, index) {
  const pair = Math.floor(index / 2);
  const random = prng(pair * 7919 + hash(userId));
  const said = sentence(random);
  const answered = reply(random);
  const isUser = index % 2 === 0;
  return [
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
  for (let i = from; i < to; i++) yield row(BENCH_USER, i);
  const othersFrom = Math.floor(from * OTHER_USERS_SHARE);
  const othersTo = Math.floor(to * OTHER_USERS_SHARE);
  for (let i = othersFrom; i < othersTo; i++) yield row(`user-${i % OTHER_USERS}`, Math.floor(i / OTHER_USERS));
}

/** Writes SQL files for rows [from, to); returns their paths. */
function writeSeedFiles(dir, from, to) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  let statements = [];
  let batch = [];
  let rowsInFile = 0;
  const flushInsert = () => {
    if (batch.length === 0) return;
    statements.push(
      `INSERT INTO memories (id, user_id, conversation_id, role, content, created_at) VALUES\n${batch.join(",\n")};`,
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
