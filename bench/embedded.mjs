/**
 * Embedded store scaling: memos-edge without a MemOS key serves search from
 * local D1. One store per size (1k, 10k, 100k memories for one user, plus
 * other users' rows), each served by its own wrangler dev; the same searches
 * go to every store in turn, one at a time (load.mjs `interleaved`), so the
 * sizes differ only in the store, not in when they were measured.
 */
import { join } from "node:path";
import { EDGE_TOKEN } from "./cases.mjs";
import { interleaved } from "./load.mjs";
import { startDev, stop } from "./processes.mjs";
import { BENCH_USER, migrate, seed } from "./seed.mjs";
import { prng, queries } from "./text.mjs";

export async function runEmbedded({ config, dir, sizes, searches, warmup, log }) {
  const stores = [];
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const db = { config, persistTo: join(dir, `embedded-${size}-state`) };
    await migrate(db);
    const seedStarted = performance.now();
    await seed(db, join(dir, `seed-sql-${size}`), 0, size);
    stores.push({ size, db, seedSeconds: (performance.now() - seedStarted) / 1000 });
  }

  const servers = [];
  try {
    for (const { size, db } of stores) {
      const server = await startDev({
        label: `embedded ${size}`,
        config,
        // No MEMOS_API_KEY: the embedded D1 store serves.
        vars: { AUTH_TOKENS: EDGE_TOKEN },
        persistTo: db.persistTo,
        logFile: join(dir, `embedded-${size}.log`),
      });
      servers.push(server);
      const health = await (await fetch(`${server.workerUrl}/health`)).json();
      if (health.backend !== "local")
        throw new Error(`embedded run needs the local backend, /health says ${health.backend}`);
    }
    // The same queries at every size, so the sizes differ only in the store.
    const texts = queries(prng(1), warmup + searches);
    const requests = (offset) =>
      Object.fromEntries(
        stores.map(({ size }, index) => [
          size,
          (i) => [
            `${servers[index].workerUrl}/v1/search`,
            {
              method: "POST",
              headers: { authorization: `Bearer ${EDGE_TOKEN}`, "content-type": "application/json" },
              body: JSON.stringify({ user_id: BENCH_USER, query: texts[offset + i], top_k: 20 }),
            },
          ],
        ]),
      );
    await interleaved({ count: warmup, requests: requests(0) });
    const results = await interleaved({ count: searches, requests: requests(warmup) });
    return stores.map(({ size, seedSeconds }) => {
      const result = results[size];
      log(
        `  ${String(size).padStart(7)} memories  seeded in ${seedSeconds.toFixed(1)} s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms`,
      );
      return { size, seedSeconds, ...result };
    });
  } finally {
    await Promise.all(servers.map((server) => stop(server.child)));
  }
}
