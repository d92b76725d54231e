/**
 * The shared multi-user store (issue 15): one user's search in a store of
 * many users × many memories, against the same search in a store holding
 * only that user; and a brand-new user with one memory, the same way. Stores
 * are seeded straight into the local D1 file (seed.mjs `seedDirect`).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { EDGE_TOKEN } from "./cases.mjs";
import { sequential } from "./load.mjs";
import { startDev, stop } from "./processes.mjs";
import { d1File, migrate, seedDirect } from "./seed.mjs";
import { prng, queries } from "./text.mjs";

const MEMORIES_PER_USER = 1_000;
const NEW_USER = "mu-new";

/** Serves the store under `persistTo` and times `searches` searches for each of `userIds`. */
async function timeSearches({ config, persistTo, logFile, label, userIds, searches, warmup }) {
  const server = await startDev({ label, config, vars: { AUTH_TOKENS: EDGE_TOKEN }, persistTo, logFile });
  try {
    const texts = queries(prng(1), warmup + searches);
    const results = {};
    for (const userId of userIds) {
      const request = (offset) => (i) => [
        `${server.workerUrl}/v1/search`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${EDGE_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ user_id: userId, query: texts[offset + i], top_k: 20 }),
        },
      ];
      await sequential({ count: warmup, request: request(0) });
      results[userId] = await sequential({ count: searches, request: request(warmup) });
    }
    return results;
  } finally {
    await stop(server.child);
  }
}

export async function runMultiUser({ config, dir, users, searches, warmup, log }) {
  const measured = `mu-${Math.floor(users / 2)}`;
  const everyone = [
    ...Array.from({ length: users }, (_, k) => ({ userId: `mu-${k}`, slot: k + 1, count: MEMORIES_PER_USER })),
    { userId: NEW_USER, slot: users + 1, count: 1 },
  ];
  const stores = [
    { name: "shared", users: everyone, measure: [measured, NEW_USER] },
    { name: "alone", users: everyone.filter((u) => u.userId === measured), measure: [measured] },
    { name: "new alone", users: everyone.filter((u) => u.userId === NEW_USER), measure: [NEW_USER] },
  ];
  const out = { users, memoriesPerUser: MEMORIES_PER_USER, measured, newUser: NEW_USER, stores: {} };
  for (const store of stores) {
    const db = { config, persistTo: join(dir, `multiuser-${store.name.replace(" ", "-")}-state`) };
    await migrate(db);
    const started = performance.now();
    await seedDirect(db, store.users);
    const seedSeconds = (performance.now() - started) / 1000;
    const rows = store.users.reduce((sum, u) => sum + u.count, 0);
    const bytes = statSync(d1File(db.persistTo)).size;
    const results = await timeSearches({
      config,
      persistTo: db.persistTo,
      logFile: join(dir, `multiuser-${store.name.replace(" ", "-")}.log`),
      label: `multi-user ${store.name}`,
      userIds: store.measure,
      searches,
      warmup,
    });
    out.stores[store.name] = { rows, bytes, seedSeconds, results };
    for (const [userId, r] of Object.entries(results)) {
      log(
        `  ${store.name.padEnd(9)} (${rows} rows, seeded in ${seedSeconds.toFixed(1)} s)  ${userId.padEnd(8)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
          (r.failures > 0 ? `  ${r.failures} failed` : ""),
      );
    }
  }
  return out;
}
