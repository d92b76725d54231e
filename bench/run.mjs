/**
 * `npm run bench`: memos-edge side by side with a minimal forwarding Worker
 * and with the fake MemOS called directly, all on 127.0.0.1, plus embedded
 * store scaling and the bundle size. Writes bench/RESULTS.md.
 * Knobs and the meaning of each number: bench/README.md.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWorker, bundleSize, servingConfig } from "./bundle.mjs";
import { EDGE_TOKEN, UPSTREAM_KEY } from "./cases.mjs";
import { DRAIN_TIMEOUT_MS, checkTargets, runCloud } from "./cloud.mjs";
import { runEmbedded } from "./embedded.mjs";
import { measureForms } from "./forms.mjs";
import { runMultiUser } from "./multiuser.mjs";
import { measureStartup } from "./startup.mjs";
import { LOCAL_TRACING, ROOT, startDev, startUpstream, stop, stopAll, wasInterrupted } from "./processes.mjs";
import { machine, renderReport } from "./report.mjs";

/** The one asserted number: above it the run exits 1 (after the report). */
const BUNDLE_GZIP_BUDGET_KIB = 200;

/**
 * Issue 15's targets (and issue 14's form-parsing one), reported as met or
 * missed, never asserted: a shared laptop is too noisy to fail on. Added
 * latency and CPU are over the forwarding baseline, measured in the same run.
 */
const TARGETS = {
  freshAddThroughputRatio: 0.7,
  freshAddCpuOverMs: 2,
  freshAddP99OverMs: 5,
  searchThroughputRatio: 0.95,
  searchCpuOverMs: 0.5,
  searchP99OverMs: 1,
  duplicateSpeedup: 10,
  // Issue 21: every queued add reaches MemOS; the bench waits this long after the load run for it.
  queueDrainS: DRAIN_TIMEOUT_MS / 1000,
  embeddedGrowthP50Ratio: 1.15,
  embeddedP99OverP50: 3,
  embeddedSize: 100_000,
  embeddedBaseSize: 1_000,
  sharedOverAloneRatio: 1.5,
  formMaxMs: 100,
  bundleGzipKiB: BUNDLE_GZIP_BUDGET_KIB,
};

const quick = process.env.BENCH_QUICK === "1";
const list = (value, fallback) => (value ? value.split(",").map(Number) : fallback);
const settings = {
  durationS: Number(process.env.BENCH_DURATION_S ?? (quick ? 1 : 6)),
  // workerd is slow for its first second or two (JIT, lazy start-up); a warm-up run precedes every measurement.
  warmupS: quick ? 0.5 : 2,
  connections: Number(process.env.BENCH_CONNECTIONS ?? 10),
  oneAtATime: Number(process.env.BENCH_ONE_AT_A_TIME ?? (quick ? 20 : 100)),
  latencies: list(process.env.BENCH_LATENCIES_MS, [0, 50]),
  // Rounds of each case at the first latency (the judged one); each figure is the median.
  rounds: Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
  sizes: list(process.env.BENCH_SIZES, quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]),
  searches: Number(process.env.BENCH_SEARCHES ?? (quick ? 50 : 200)),
  warmupSearches: quick ? 10 : 20,
  // The shared store: this many users × 1,000 memories (plus a new user with one).
  sharedUsers: Number(process.env.BENCH_SHARED_USERS ?? (quick ? 100 : 1_000)),
  sharedSearches: quick ? 30 : 100,
  startupRuns: quick ? 1 : 3,
  formRequests: quick ? 5 : 20,
  localTracing: LOCAL_TRACING,
};

const TMP = join(ROOT, "bench", ".tmp", "run");
const log = (line) => console.error(line);

/** Builds a Worker and writes the config that serves the build; returns the build and that config. */
async function build(label, config) {
  const built = await buildWorker(config, join(TMP, `${label}-dist`));
  return { built, config: servingConfig(config, built.entry, join(TMP, `${label}.wrangler.json`)) };
}

async function cloudComparison(edgeConfig, baselineConfig) {
  const upstream = await startUpstream({ apiKey: UPSTREAM_KEY });
  const [edge, baseline] = await Promise.all([
    startDev({
      label: "memos-edge",
      config: edgeConfig,
      vars: { MEMOS_API_KEY: UPSTREAM_KEY, MEMOS_BASE_URL: upstream.url, AUTH_TOKENS: EDGE_TOKEN },
      persistTo: join(TMP, "edge-state"),
      logFile: join(TMP, "memos-edge.log"),
    }),
    startDev({
      label: "baseline",
      config: baselineConfig,
      vars: { MEMOS_API_KEY: UPSTREAM_KEY, MEMOS_BASE_URL: upstream.url },
      persistTo: join(TMP, "baseline-state"),
      logFile: join(TMP, "baseline.log"),
    }),
  ]);
  const servers = { upstream, edge, baseline };
  try {
    await checkTargets(servers);
    const rows = await runCloud({ servers, ...settings, log });
    log("form parsing at the size cap…");
    const forms = await measureForms({ url: edge.workerUrl, count: settings.formRequests, log });
    return { rows, forms };
  } finally {
    await Promise.all([stop(edge.child), stop(baseline.child), stop(upstream.child)]);
  }
}

async function main() {
  const started = performance.now();
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  log(`bench: ${JSON.stringify(settings)}`);

  log("build (wrangler deploy --dry-run)…");
  const edge = await build("memos-edge", join(ROOT, "wrangler.toml"));
  const baseline = await build("baseline", join(ROOT, "bench", "baseline", "wrangler.toml"));
  const bundle = bundleSize(edge.built);
  log(
    `  memos-edge: ${bundle.rawKiB} KiB raw, ${bundle.gzipKiB} KiB gzip; the MCP server ${bundle.mcp.rawKiB.toFixed(1)} KiB raw of it (about ${bundle.mcp.gzipKiBEstimate.toFixed(1)} KiB gzip)`,
  );

  log("against the fake MemOS (direct, baseline, memos-edge)…");
  const { rows: cloud, forms } = await cloudComparison(edge.config, baseline.config);

  log("embedded store (local D1)…");
  const embedded = await runEmbedded({
    config: edge.config,
    dir: TMP,
    sizes: settings.sizes,
    searches: settings.searches,
    warmup: settings.warmupSearches,
    log,
  });

  log(`shared store (${settings.sharedUsers} users × 1,000 memories) against stores of one user…`);
  const shared = await runMultiUser({
    config: edge.config,
    dir: TMP,
    users: settings.sharedUsers,
    searches: settings.sharedSearches,
    warmup: settings.warmupSearches,
    log,
  });

  log("worker startup (wrangler check startup)…");
  const startup = await measureStartup({
    workers: [
      { label: "memos-edge", config: join(ROOT, "wrangler.toml") },
      { label: "baseline", config: join(ROOT, "bench", "baseline", "wrangler.toml") },
    ],
    dir: TMP,
    runs: settings.startupRuns,
    log,
  });

  const report = renderReport({
    machine: machine(),
    settings,
    targets: TARGETS,
    cloud,
    embedded,
    shared,
    startup,
    forms,
    bundle,
  });
  writeFileSync(join(ROOT, "bench", "RESULTS.md"), report);
  console.log(report);
  log(`bench: done in ${((performance.now() - started) / 1000).toFixed(0)} s; written to bench/RESULTS.md`);
  if (bundle.gzipKiB > BUNDLE_GZIP_BUDGET_KIB) {
    log(`bench: FAILED — bundle is ${bundle.gzipKiB} KiB gzip, over the ${BUNDLE_GZIP_BUDGET_KIB} KiB budget`);
    process.exitCode = 1;
  }
}

main()
  .catch((error) => {
    if (!wasInterrupted()) console.error(`bench: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(stopAll);
