/**
 * The shared multi-user store (issue 15): one user's search in a store of
 * many users × many memories, against the same search in a store holding
 * only that user; and a brand-new user with one memory, the same way. Stores
 * are seeded straight into the local D1 file (seed.mjs `seedDirect`), then all
 * are served at once and the same searches go to each in turn.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { EDGE_TOKEN } from "./cases.mjs";
import { interleaved } from "./load.mjs";
import { startDev, stop } from "./processes.mjs";
import { d1File, migrate, seedDirect } from "./seed.mjs";
import { prng, queries } from "./text.mjs";

const MEMORIES_PER_USER = 1_000;
const NEW_USER = "mu-new";

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
    out.stores[store.name] = { rows, bytes, seedSeconds, persistTo: db.persistTo, results: {} };
  }

  // Every store served at once, the same searches sent to each in turn (load.mjs `interleaved`).
  const servers = [];
  try {
    for (const store of stores) {
      const label = `multi-user ${store.name}`;
      const { persistTo } = out.stores[store.name];
      const logFile = join(dir, `multiuser-${store.name.replace(" ", "-")}.log`);
      servers.push(await startDev({ label, config, vars: { AUTH_TOKENS: EDGE_TOKEN }, persistTo, logFile }));
    }
    const texts = queries(prng(1), warmup + searches);
    const requests = (offset) =>
      Object.fromEntries(
        stores.flatMap((store, index) =>
          store.measure.map((userId) => [
            `${store.name}/${userId}`,
            (i) => [
              `${servers[index].workerUrl}/v1/search`,
              {
                method: "POST",
                headers: { authorization: `Bearer ${EDGE_TOKEN}`, "content-type": "application/json" },
                body: JSON.stringify({ user_id: userId, query: texts[offset + i], top_k: 20 }),
              },
            ],
          ]),
        ),
      );
    await interleaved({ count: warmup, requests: requests(0) });
    const results = await interleaved({ count: searches, requests: requests(warmup) });
    for (const store of stores) {
      const summary = out.stores[store.name];
      delete summary.persistTo;
      for (const userId of store.measure) {
        const r = results[`${store.name}/${userId}`];
        summary.results[userId] = r;
        log(
          `  ${store.name.padEnd(9)} (${summary.rows} rows, seeded in ${summary.seedSeconds.toFixed(1)} s)  ${userId.padEnd(8)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
            (r.failures > 0 ? `  ${r.failures} failed` : ""),
        );
      }
    }
  } finally {
    await Promise.all(servers.map((server) => stop(server.child)));
  }
  return out;
}
