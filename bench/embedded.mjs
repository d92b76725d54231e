/**
 * Embedded store scaling: memos-edge without a MemOS key serves search from
 * local D1. The store grows 1k → 10k → 100k memories for one user (plus other
 * users' rows); at each size a fresh wrangler dev serves a bounded sequence of
 * searches, one at a time, so the numbers are per-query latency, not queueing.
 */
import { join } from "node:path";
import { EDGE_TOKEN } from "./cases.mjs";
import { sequential } from "./load.mjs";
import { startDev, stop } from "./processes.mjs";
import { BENCH_USER, migrate, seed } from "./seed.mjs";
import { prng, queries } from "./text.mjs";

export async function runEmbedded({ config, dir, sizes, searches, warmup, log }) {
  const db = { config, persistTo: join(dir, "embedded-state") };
  await migrate(db);
  const rows = [];
  let seeded = 0;
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const seedStarted = performance.now();
    await seed(db, join(dir, "seed-sql"), seeded, size);
    seeded = size;
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const server = await startDev({
      label: `embedded ${size}`,
      config,
      // No MEMOS_API_KEY: the embedded D1 store serves.
      vars: { AUTH_TOKENS: EDGE_TOKEN },
      persistTo: db.persistTo,
      logFile: join(dir, `embedded-${size}.log`),
    });
    try {
      const health = await (await fetch(`${server.workerUrl}/health`)).json();
      if (health.backend !== "local")
        throw new Error(`embedded run needs the local backend, /health says ${health.backend}`);
      // The same queries at every size, so the sizes differ only in the store.
      const texts = queries(prng(1), warmup + searches);
      const request = (offset) => (i) => [
        `${server.workerUrl}/v1/search`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${EDGE_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ user_id: BENCH_USER, query: texts[offset + i], top_k: 20 }),
        },
      ];
      await sequential({ count: warmup, request: request(0) });
      const result = await sequential({ count: searches, request: request(warmup) });
      rows.push({ size, seedSeconds, ...result });
      log(
        `  ${String(size).padStart(7)} memories  seeded in ${seedSeconds.toFixed(1)} s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms`,
      );
    } finally {
      await stop(server.child);
    }
  }
  return rows;
}
