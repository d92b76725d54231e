/**
 * The embedded store brings its D1 schema up itself, so no deploy or `wrangler
 * dev` needs a migration step: on the first store call of each isolate, every
 * file of migrations/ not yet recorded in wrangler's `d1_migrations` table is
 * applied, each in one `db.batch` (D1 runs a batch as one transaction) with its
 * `d1_migrations` row. A database migrated by `wrangler d1 migrations apply` is
 * left as it is, and after the Worker has run, that command finds nothing to do.
 */
import * as files from "./migrations";

export interface Migration {
  name: string;
  sql: string;
}

/** In file-name order, the order wrangler applies them in. */
export const MIGRATIONS: readonly Migration[] = Object.entries(files)
  .map(([name, sql]) => ({ name, sql }))
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/**
 * wrangler's bookkeeping table, as wrangler 4.156 creates it
 * (`getCreateMigrationsTableQuery`; the test pool's applyD1Migrations makes the same).
 * wrangler decides what is applied by `name` alone.
 */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "d1_migrations"(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

/** One bring-up per isolate and database; a failed one is forgotten, so the next request tries again. */
const ready = new WeakMap<D1Database, Promise<void>>();

export function ensureSchema(db: D1Database): Promise<void> {
  let pending = ready.get(db);
  if (pending === undefined) {
    pending = applyMigrations(db).then(
      () => undefined,
      (error: unknown) => {
        ready.delete(db);
        throw error;
      },
    );
    ready.set(db, pending);
  }
  return pending;
}

/**
 * Applies the migrations `db` has not recorded; returns the names it applied.
 * Costs one round trip when the schema is current. Safe under concurrency:
 * when two isolates race, one batch commits and the other fails and rolls back
 * whole (its CREATE TABLE or its UNIQUE `name` row collides); the loser then
 * finds the migration recorded and goes on.
 */
export async function applyMigrations(db: D1Database, migrations = MIGRATIONS): Promise<string[]> {
  let applied = await appliedNames(db);
  const done: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    const statements = splitStatements(migration.sql).map((sql) => db.prepare(sql));
    const record = db.prepare(`INSERT INTO "d1_migrations" (name) VALUES (?)`).bind(migration.name);
    try {
      await db.batch([...statements, record]);
      done.push(migration.name);
    } catch (error) {
      applied = await appliedNames(db);
      if (!applied.has(migration.name)) throw error;
    }
  }
  return done;
}

async function appliedNames(db: D1Database): Promise<Set<string>> {
  const [, rows] = await db.batch<{ name: string }>([
    db.prepare(CREATE_MIGRATIONS_TABLE),
    db.prepare(`SELECT name FROM "d1_migrations"`),
  ]);
  return new Set((rows?.results ?? []).map((row) => row.name));
}

/**
 * A migration file as single statements, comments dropped: `db.prepare` takes
 * one statement, and `db.exec` cannot be used (it splits on line breaks).
 * Semicolons inside quotes, comments and trigger bodies (`BEGIN … END`, with
 * `CASE … END` inside) do not end a statement.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  let depth = 0;
  let index = 0;
  const flush = () => {
    const statement = current.trim();
    if (statement !== "") statements.push(statement);
    current = "";
    depth = 0;
  };
  while (index < sql.length) {
    const char = sql[index] ?? "";
    const rest = sql.slice(index, index + 2);
    if (rest === "--") {
      const end = sql.indexOf("\n", index);
      index = end === -1 ? sql.length : end;
      continue;
    }
    if (rest === "/*") {
      const end = sql.indexOf("*/", index + 2);
      index = end === -1 ? sql.length : end + 2;
      current += " ";
      continue;
    }
    const close = QUOTES[char];
    if (close !== undefined) {
      let end = index + 1;
      // A doubled closing quote is an escaped one.
      while (end < sql.length && !(sql[end] === close && sql[end + 1] !== close)) end += sql[end] === close ? 2 : 1;
      current += sql.slice(index, end + 1);
      index = end + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(index))?.[0];
    if (word !== undefined) {
      const upper = word.toUpperCase();
      if (/^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i.test(current)) {
        if (upper === "BEGIN" || upper === "CASE") depth += 1;
        if (upper === "END" && depth > 0) depth -= 1;
      }
      current += word;
      index += word.length;
      continue;
    }
    if (char === ";" && depth === 0) flush();
    else current += char;
    index += 1;
  }
  flush();
  return statements;
}

const QUOTES: Record<string, string> = { "'": "'", '"': '"', "`": "`", "[": "]" };
