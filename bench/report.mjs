/**
 * Turns the measurements into bench/RESULTS.md: machine, targets (met or
 * missed — reported, not asserted, except the bundle budget), then the tables
 * the targets are read from.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { ROOT } from "./processes.mjs";

const fixed = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const ms = fixed(2);
const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–");
const signedMs = (value) => (Number.isFinite(value) ? `${value >= 0 ? "+" : ""}${value.toFixed(2)}` : "–");
const status = (ok) => (ok === undefined ? "not measured" : ok ? "met" : "**missed**");
const kilo = (n) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

function versionOf(pkg) {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
}

/** The commit measured, marked when the working tree differs from it (the bundle is built from the tree). */
function revision() {
  try {
    const git = (...args) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml", "package.json").length > 0;
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes" : ""}`;
  } catch {
    return "unknown";
  }
}

export function machine() {
  const model =
    /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown";
  return {
    cpu: model.trim(),
    cores: cpus().length,
    node: process.version,
    wrangler: versionOf("wrangler"),
    workerd: versionOf("workerd"),
    revision: revision(),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

const MAIN_TARGETS = ["direct", "baseline", "memos-edge"];
const find = (rows, latencyMs, kase, target) =>
  rows.find((r) => r.latencyMs === latencyMs && r.case === kase && r.target === target);

/** memos-edge's and the baseline's rows of one case at one upstream latency. */
function pair(cloud, latencyMs, kase) {
  const edge = find(cloud, latencyMs, kase, "memos-edge");
  const base = find(cloud, latencyMs, kase, "baseline");
  return edge && base ? { edge, base } : undefined;
}

/**
 * Each target is judged where the measurement means what the target says
 * (README "Reading the numbers"): throughput and CPU with the upstream at its
 * fastest, where the Workers are the bottleneck; added latency one request at
 * a time, where there is no queueing, over the forwarding baseline of the same
 * run; the dedupe speed-up at the slow upstream.
 */
function judge({ cloud, embedded, shared, forms, bundle, settings, targets }) {
  const fast = Math.min(...settings.latencies);
  const slow = Math.max(...settings.latencies);
  const out = [];
  const check = (target, value, show, ok) =>
    out.push({
      target,
      measured: value === undefined ? "–" : show(value),
      ok: value === undefined ? undefined : ok(value),
    });

  for (const [kase, key] of [
    ["fresh add", "freshAdd"],
    ["search", "search"],
  ]) {
    const p = pair(cloud, fast, kase);
    check(
      `${kase}: throughput ≥ ${targets[`${key}ThroughputRatio`]}× baseline (${fast} ms upstream, ${settings.connections} connections)`,
      p ? p.edge.rps / p.base.rps : undefined,
      (v) => `${ratio(v)} (${p.edge.rps.toFixed(0)} vs ${p.base.rps.toFixed(0)} req/s)`,
      (v) => v >= targets[`${key}ThroughputRatio`],
    );
    check(
      `${kase}: worker CPU over the baseline ≤ +${targets[`${key}CpuOverMs`]} ms${kase === "search" ? ", 20 memories" : ""}`,
      p?.edge.cpu && p.base.cpu ? p.edge.cpu.runtime - p.base.cpu.runtime : undefined,
      (v) => `${signedMs(v)} ms (${p.edge.cpu.runtime.toFixed(2)} vs ${p.base.cpu.runtime.toFixed(2)})`,
      (v) => v <= targets[`${key}CpuOverMs`],
    );
    check(
      `${kase}: p99 added over the baseline, one at a time ≤ +${targets[`${key}P99OverMs`]} ms`,
      p ? p.edge.single.p99 - p.base.single.p99 : undefined,
      (v) => `${signedMs(v)} ms (${ms(p.edge.single.p99)} vs ${ms(p.base.single.p99)})`,
      (v) => v <= targets[`${key}P99OverMs`],
    );
  }
  const fresh = find(cloud, slow, "fresh add", "memos-edge");
  const dup = find(cloud, slow, "duplicate add", "memos-edge");
  check(
    `duplicate add ≥ ${targets.duplicateSpeedup}× faster than a fresh add (p50 one at a time, ${slow} ms upstream)`,
    fresh && dup ? fresh.single.p50 / dup.single.p50 : undefined,
    (v) =>
      `${v.toFixed(1)}× (${ms(fresh.single.p50)} → ${ms(dup.single.p50)} ms; under load ${ratio(fresh.p50 / dup.p50)})`,
    (v) => v >= targets.duplicateSpeedup,
  );
  for (const latencyMs of settings.latencies) {
    const queued = find(cloud, latencyMs, "queued add", "memos-edge");
    check(
      `queued adds (${latencyMs} ms upstream): every add accepted (202) in the load run reaches MemOS within ${targets.queueDrainS} s after it`,
      queued?.delivery,
      (d) => `${d.reached} of ${d.accepted}, drained in ${(d.drainMs / 1000).toFixed(1)} s`,
      (d) => d.reached >= d.accepted,
    );
  }
  const largest = embedded.find((r) => r.size === targets.embeddedSize);
  const smallest = embedded.find((r) => r.size === targets.embeddedBaseSize);
  check(
    `embedded search p50 at ${kilo(targets.embeddedSize)} ≤ ${targets.embeddedGrowthP50Ratio}× its p50 at ${kilo(targets.embeddedBaseSize)} memories`,
    largest && smallest ? largest.p50 / smallest.p50 : undefined,
    (v) => `${ratio(v)} (${ms(largest.p50)} / ${ms(smallest.p50)} ms)`,
    (v) => v <= targets.embeddedGrowthP50Ratio,
  );
  check(
    `embedded search p99 at ${kilo(targets.embeddedSize)} ≤ ${targets.embeddedP99OverP50}× its p50`,
    largest ? largest.p99 / largest.p50 : undefined,
    (v) => `${ratio(v)} (${ms(largest.p99)} / ${ms(largest.p50)} ms)`,
    (v) => v <= targets.embeddedP99OverP50,
  );
  if (shared) {
    const store = `${shared.users.toLocaleString("en")} users × ${shared.memoriesPerUser.toLocaleString("en")} memories`;
    const cases = [
      [`a user with ${shared.memoriesPerUser.toLocaleString("en")} memories`, shared.measured, "alone"],
      ["a new user with 1 memory", shared.newUser, "new alone"],
    ];
    for (const [who, userId, alone] of cases) {
      const inShared = shared.stores.shared?.results[userId];
      const byItself = shared.stores[alone]?.results[userId];
      check(
        `embedded search p50 of ${who} in the shared store (${store}) ≤ ${targets.sharedOverAloneRatio}× the same in a store holding only that user`,
        inShared && byItself ? inShared.p50 / byItself.p50 : undefined,
        (v) => `${ratio(v)} (${ms(inShared.p50)} vs ${ms(byItself.p50)} ms)`,
        (v) => v <= targets.sharedOverAloneRatio,
      );
    }
  }
  for (const form of forms ?? []) {
    check(
      `form body at the size cap, ${form.name}: answered in well under ${targets.formMaxMs} ms (max of ${form.count}, one at a time)`,
      form.max,
      (v) => `max ${ms(v)} ms, p50 ${ms(form.p50)} ms (HTTP ${form.statuses})`,
      (v) => v < targets.formMaxMs,
    );
  }
  check(
    `bundle gzip ≤ ${targets.bundleGzipKiB} KiB (**asserted**: exit 1 above it)`,
    bundle?.gzipKiB,
    (v) => `${v.toFixed(2)} KiB`,
    (v) => v <= targets.bundleGzipKiB,
  );
  return out;
}

/** The headline: what memos-edge adds over the forwarding baseline, same run, same harness. */
function headlineTable(cloud, settings, startup) {
  const fast = Math.min(...settings.latencies);
  const lines = [
    `| case (${fast} ms upstream) | added p50 / p99 ms, one at a time | added worker CPU ms/req | throughput vs baseline |`,
    "|---|--:|--:|--:|",
  ];
  for (const kase of ["search", "fresh add", "duplicate add"]) {
    const p = pair(cloud, fast, kase);
    if (!p) continue;
    lines.push(
      `| ${kase} | ${signedMs(p.edge.single.p50 - p.base.single.p50)} / ${signedMs(p.edge.single.p99 - p.base.single.p99)} | ` +
        `${p.edge.cpu && p.base.cpu ? signedMs(p.edge.cpu.runtime - p.base.cpu.runtime) : "–"} | ${ratio(p.edge.rps / p.base.rps)} |`,
    );
  }
  const edge = startup?.["memos-edge"];
  const base = startup?.baseline;
  if (edge && base) {
    lines.push(
      `| Worker startup (\`wrangler check startup\`, median of ${edge.runs}) | | ${signedMs(edge.activeMs - base.activeMs)} (${edge.activeMs.toFixed(1)} vs ${base.activeMs.toFixed(1)}) | |`,
    );
  }
  return lines.join("\n");
}

function sharedTable(shared) {
  const lines = [
    "| store | rows | file MiB | bytes / row | seeded in | user | p50 ms | p99 ms | failed |",
    "|---|--:|--:|--:|--:|---|--:|--:|--:|",
  ];
  for (const [name, store] of Object.entries(shared.stores)) {
    for (const [userId, r] of Object.entries(store.results)) {
      lines.push(
        `| ${name} | ${store.rows.toLocaleString("en")} | ${(store.bytes / 2 ** 20).toFixed(1)} | ${store.rows >= 1_000 ? (store.bytes / store.rows).toFixed(0) : "–"} | ` +
          `${store.seedSeconds.toFixed(1)} s | ${userId} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.failures} |`,
      );
    }
  }
  return lines.join("\n");
}

function startupTable(startup) {
  const lines = [
    "| Worker | startup CPU ms (active, median) | runs | of which the bundle's own code ms |",
    "|---|--:|---|--:|",
  ];
  for (const [label, s] of Object.entries(startup)) {
    lines.push(
      `| ${label} | ${s.activeMs.toFixed(1)} | ${s.activeAll.map((v) => v.toFixed(1)).join(", ")} | ${s.codeMs.toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}

function formsTable(forms) {
  const lines = ["| form-urlencoded body | KiB | answers | p50 ms | max ms | HTTP |", "|---|--:|--:|--:|--:|---|"];
  for (const f of forms) {
    lines.push(
      `| ${f.name} | ${(f.bytes / 1024).toFixed(0)} | ${f.count} | ${ms(f.p50)} | ${ms(f.max)} | ${f.statuses} |`,
    );
  }
  return lines.join("\n");
}

function cloudTable(cloud, latencyMs) {
  const lines = [
    "| case | target | req/s | × baseline | × direct | p50 ms | p99 ms | one at a time p50 / p99 ms | p99 over direct, one at a time | worker CPU ms/req | upstream calls (load run) |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of cloud.filter((r) => r.latencyMs === latencyMs && MAIN_TARGETS.includes(r.target))) {
    // A case may have only a memos-edge row (the queued add): no baseline or direct to compare with.
    const base = find(cloud, latencyMs, row.case, "baseline");
    const direct = find(cloud, latencyMs, row.case, "direct");
    const isDirect = row.target === "direct";
    const failures = row.failures + row.single.failures;
    const cells = [
      row.case,
      row.target,
      row.rps.toFixed(0),
      row.target === "memos-edge" && base ? ratio(row.rps / base.rps) : "",
      isDirect || !direct ? "" : ratio(row.rps / direct.rps),
      ms(row.p50),
      ms(row.p99),
      `${ms(row.single.p50)} / ${ms(row.single.p99)}`,
      isDirect || !direct ? "" : `${signedMs(row.single.p99 - direct.single.p99)} ms`,
      row.cpu ? fixed(3)(row.cpu.runtime) : "",
      `${row.upstreamCalls.add + row.upstreamCalls.search}${failures > 0 ? ` (**${failures} failed: ${row.statusCodes}**)` : ""}`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * Queued adds against direct ones, per upstream latency: the answer (202 once
 * enqueued vs 200 once MemOS took it), then the delivery of the queued load
 * run's adds (every one must reach the fake MemOS) and its lag from the
 * consumer's log lines.
 */
function queuedTable(cloud, settings) {
  const lines = [
    "| upstream | add | HTTP | one at a time p50 / p99 ms | req/s | p50 / p99 ms under load | worker CPU ms/req |",
    "|--:|---|---|--:|--:|--:|--:|",
  ];
  const delivery = [
    "| upstream | accepted in the load run | reached MemOS | drained after the load | lag p50 / p99 / max ms | lag lines | retries / failed |",
    "|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const latencyMs of settings.latencies) {
    const queued = find(cloud, latencyMs, "queued add", "memos-edge");
    if (!queued) continue;
    const direct = find(cloud, latencyMs, "fresh add", "memos-edge");
    for (const [label, http, row] of [
      ["direct (fresh add)", "200", direct],
      ["queued (`Prefer: respond-async`)", "202", queued],
    ]) {
      if (!row) continue;
      const failures = row.failures + row.single.failures;
      lines.push(
        `| ${latencyMs} ms | ${label} | ${http}${failures > 0 ? ` (**${failures} failed: ${row.statusCodes}**)` : ""} | ` +
          `${ms(row.single.p50)} / ${ms(row.single.p99)} | ${row.rps.toFixed(0)} | ${ms(row.p50)} / ${ms(row.p99)} | ${row.cpu ? fixed(3)(row.cpu.runtime) : "–"} |`,
      );
    }
    const d = queued.delivery;
    const missing = d.accepted - d.reached;
    delivery.push(
      `| ${latencyMs} ms | ${d.accepted} | ${d.reached}${missing > 0 ? ` (**${missing} missing**)` : ""} | ${(d.drainMs / 1000).toFixed(1)} s | ` +
        `${fixed(0)(d.lagP50)} / ${fixed(0)(d.lagP99)} / ${fixed(0)(d.lagMax)} | ${d.delivered} | ${d.retries} / ${d.failed} |`,
    );
  }
  return `${lines.join("\n")}\n\nDelivery of the queued load run's adds (lag: enqueue to MemOS's answer, from the consumer's log lines):\n\n${delivery.join("\n")}`;
}

/** The same Workers through wrangler dev's proxy, against the rows measured on workerd's own socket. */
function proxyTable(cloud) {
  const lines = [
    "| target | req/s | p50 ms | p99 ms | one at a time p50 ms | runtime CPU ms/req | proxy CPU ms/req | req/s vs workerd's socket |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of cloud.filter((r) => !MAIN_TARGETS.includes(r.target))) {
    const bare = find(cloud, row.latencyMs, row.case, row.target.replace(/ via dev proxy$/, ""));
    lines.push(
      `| ${row.target} (${row.case}, ${row.latencyMs} ms) | ${row.rps.toFixed(0)} | ${ms(row.p50)} | ${ms(row.p99)} | ${ms(row.single.p50)} | ` +
        `${fixed(3)(row.cpu.runtime)} | ${fixed(3)(row.cpu.proxy)} | ${bare ? ratio(row.rps / bare.rps) : "–"} |`,
    );
  }
  return lines.join("\n");
}

function embeddedTable(embedded) {
  const lines = [
    "| memories of the user | p50 ms | p99 ms | searches/s (one at a time) | failed | seeded in |",
    "|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of embedded) {
    lines.push(
      `| ${kilo(row.size)} | ${ms(row.p50)} | ${ms(row.p99)} | ${row.rps.toFixed(0)} | ${row.failures} | ${row.seedSeconds.toFixed(1)} s |`,
    );
  }
  return lines.join("\n");
}

export function renderReport({ machine: m, settings, targets, cloud, embedded, shared, startup, forms, bundle }) {
  const sections = [
    "# memos-edge benchmark results",
    "",
    `Generated by \`npm run bench\` on ${m.date} from ${m.revision}. What each number means: [README.md](README.md).`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores · Node ${m.node} · wrangler ${m.wrangler} · workerd ${m.workerd}`,
    "",
    `Settings: ${settings.connections} connections, ${settings.durationS} s per load run after ${settings.warmupS} s warm-up, ` +
      `then ${settings.oneAtATime} requests one at a time; upstream latency ${settings.latencies.join(" and ")} ms` +
      (settings.rounds > 1
        ? ` (at ${settings.latencies[0]} ms each figure the median of ${settings.rounds} rounds, the targets alternated)`
        : "") +
      "; " +
      `embedded store: ${settings.searches} searches one at a time after ${settings.warmupSearches} warm-up, sizes ${settings.sizes.map(kilo).join(", ")}; ` +
      `shared store: ${settings.sharedUsers} users, ${settings.sharedSearches} searches per user; startup: ${settings.startupRuns} profiles per Worker; ` +
      `wrangler dev's local tracing ${settings.localTracing ? "on (`BENCH_LOCAL_TRACING=1`)" : "off (README: Reading the numbers)"}.`,
    "",
    "## Headline: added over the forwarding baseline (same run)",
    "",
    headlineTable(cloud, settings, startup),
    "",
    "## Targets",
    "",
    "| target | measured | |",
    "|---|--:|---|",
    ...judge({ cloud, embedded, shared, forms, bundle, settings, targets }).map(
      (t) => `| ${t.target} | ${t.measured} | ${status(t.ok)} |`,
    ),
  ];
  for (const latencyMs of settings.latencies) {
    sections.push("", `## Against the fake MemOS, ${latencyMs} ms upstream latency`, "", cloudTable(cloud, latencyMs));
  }
  if (cloud.some((r) => r.case === "queued add")) {
    sections.push(
      "",
      "## Queued adds",
      "",
      "memos-edge's `/v1/add` with `Prefer: respond-async` (202 once enqueued) against the same fresh add delivered directly (200). " +
        "Local Queues deliver one batch at a time, so under load the lag is mostly the local backlog (README).",
      "",
      queuedTable(cloud, settings),
    );
  }
  sections.push("", "## What wrangler dev's proxy adds (not in production)", "", proxyTable(cloud));
  if (embedded.length > 0) sections.push("", "## Embedded store (D1) search", "", embeddedTable(embedded));
  if (shared) {
    sections.push(
      "",
      "## Embedded store shared by many users",
      "",
      `${shared.users.toLocaleString("en")} users × ${shared.memoriesPerUser.toLocaleString("en")} memories plus a new user with one, ` +
        "against stores holding only the measured user; same queries, one at a time.",
      "",
      sharedTable(shared),
    );
  }
  if (forms?.length) sections.push("", "## Form parsing at the size cap (one at a time)", "", formsTable(forms));
  if (startup) sections.push("", "## Worker startup (`wrangler check startup`)", "", startupTable(startup));
  sections.push(
    "",
    "## Bundle",
    "",
    `${bundle.rawKiB.toFixed(2)} KiB raw, **${bundle.gzipKiB.toFixed(2)} KiB gzip** (budget ${targets.bundleGzipKiB} KiB). ` +
      `Largest parts (raw bytes in the bundle): ${bundle.largest.map((p) => `${p.name} ${p.kib.toFixed(1)} KiB`).join(", ")}.`,
    "",
    `With and without the MCP server (/mcp: the MCP SDK, @cfworker/json-schema, src/mcp/): it is ` +
      `${bundle.mcp.rawKiB.toFixed(1)} KiB raw (${(bundle.mcp.share * 100).toFixed(0)} %) of the bundle, so about ` +
      `${bundle.mcp.gzipKiBEstimate.toFixed(1)} KiB gzip; without it the bundle would be about ` +
      `${(bundle.gzipKiB - bundle.mcp.gzipKiBEstimate).toFixed(1)} KiB gzip (estimates: gzip is shared across modules).`,
  );
  return `${sections.join("\n")}\n`;
}
