import { applyD1Migrations, listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, vi } from "vitest";

beforeAll(async () => {
  await applyD1Migrations(env.MEMORY_DB, env.TEST_MIGRATIONS);
});

// The pool isolates storage per test file; each test starts from empty KV, D1 and dedupe locks too.
beforeEach(async () => {
  const { keys } = await env.DEDUPE.list();
  await Promise.all(keys.map((key) => env.DEDUPE.delete(key.name)));
  await env.MEMORY_DB.exec("DELETE FROM memories");
  await env.MEMORY_DB.exec("DELETE FROM tasks");
  const locks = await listDurableObjectIds(env.DEDUPE_LOCK);
  await Promise.all(
    // Rows, not deleteAll(): the live object keeps its tables (made once, in its constructor).
    locks.map((id) =>
      runInDurableObject(env.DEDUPE_LOCK.get(id), (_instance, state) => {
        state.storage.sql.exec("DELETE FROM entries");
        state.storage.sql.exec("DELETE FROM meta");
        state.storage.sql.exec("DELETE FROM tasks");
      }),
    ),
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});
