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

/**
 * Each target is judged where the measurement means what the target says
 * (README "Reading the numbers"): throughput and CPU with the upstream at its
 * fastest, where the Workers are the bottleneck; latency one request at a
 * time, where there is no queueing; the dedupe speed-up at the slow upstream.
 */
function judge({ cloud, embedded, bundle, settings, targets }) {
  const fast = Math.min(...settings.latencies);
  const slow = Math.max(...settings.latencies);
  const out = [];
  const check = (target, value, show, ok) =>
    out.push({
      target,
      measured: value === undefined ? "–" : show(value),
      ok: value === undefined ? undefined : ok(value),
    });

  for (const kase of ["search", "fresh add"]) {
    const edge = find(cloud, fast, kase, "memos-edge");
    const base = find(cloud, fast, kase, "baseline");
    check(
      `${kase}: throughput ≥ ${targets.throughputRatio}× baseline (${fast} ms upstream, ${settings.connections} connections)`,
      edge && base ? edge.rps / base.rps : undefined,
      ratio,
      (v) => v >= targets.throughputRatio,
    );
  }
  for (const kase of ["search", "fresh add"]) {
    const edge = find(cloud, fast, kase, "memos-edge");
    const base = find(cloud, fast, kase, "baseline");
    const direct = find(cloud, fast, kase, "direct");
    // The baseline's own added latency is what the harness costs; shown so the two can be told apart.
    check(
      `${kase}: p99 added latency ≤ ${targets.addedP99Ms} ms over a direct call (one at a time, ${fast} ms upstream)`,
      edge && base && direct ? edge.single.p99 - direct.single.p99 : undefined,
      (v) => `${signedMs(v)} ms (baseline ${signedMs(base.single.p99 - direct.single.p99)} ms)`,
      (v) => v <= targets.addedP99Ms,
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
  const search = find(cloud, fast, "search", "memos-edge");
  const floor = find(cloud, fast, "search", "baseline");
  check(
    `worker CPU ≤ ${targets.searchCpuMs} ms per search of 20 memories, over the baseline's (${fast} ms upstream)`,
    search?.cpu && floor?.cpu ? search.cpu.runtime - floor.cpu.runtime : undefined,
    (v) => `${v.toFixed(3)} ms (${search.cpu.runtime.toFixed(3)} − ${floor.cpu.runtime.toFixed(3)})`,
    (v) => v <= targets.searchCpuMs,
  );
  const largest = embedded.find((r) => r.size === targets.embeddedSize);
  check(
    `embedded search p50 ≤ ${targets.embeddedP50Ms} ms at ${kilo(targets.embeddedSize)} memories`,
    largest?.p50,
    (v) => `${ms(v)} ms`,
    (v) => v <= targets.embeddedP50Ms,
  );
  check(
    `bundle gzip ≤ ${targets.bundleGzipKiB} KiB (**asserted**: exit 1 above it)`,
    bundle?.gzipKiB,
    (v) => `${v.toFixed(2)} KiB`,
    (v) => v <= targets.bundleGzipKiB,
  );
  return out;
}

function cloudTable(cloud, latencyMs) {
  const lines = [
    "| case | target | req/s | × baseline | × direct | p50 ms | p99 ms | one at a time p50 / p99 ms | p99 over direct, one at a time | worker CPU ms/req | upstream calls (load run) |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of cloud.filter((r) => r.latencyMs === latencyMs && MAIN_TARGETS.includes(r.target))) {
    const base = find(cloud, latencyMs, row.case, "baseline");
    const direct = find(cloud, latencyMs, row.case, "direct");
    const isDirect = row.target === "direct";
    const failures = row.failures + row.single.failures;
    const cells = [
      row.case,
      row.target,
      row.rps.toFixed(0),
      row.target === "memos-edge" ? ratio(row.rps / base.rps) : "",
      isDirect ? "" : ratio(row.rps / direct.rps),
      ms(row.p50),
      ms(row.p99),
      `${ms(row.single.p50)} / ${ms(row.single.p99)}`,
      isDirect ? "" : `${signedMs(row.single.p99 - direct.single.p99)} ms`,
      row.cpu ? fixed(3)(row.cpu.runtime) : "",
      `${row.upstreamCalls.add + row.upstreamCalls.search}${failures > 0 ? ` (**${failures} failed: ${row.statusCodes}**)` : ""}`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
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

export function renderReport({ machine: m, settings, targets, cloud, embedded, bundle }) {
  const sections = [
    "# memos-edge benchmark results",
    "",
    `Generated by \`npm run bench\` on ${m.date} from ${m.revision}. What each number means: [README.md](README.md).`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores · Node ${m.node} · wrangler ${m.wrangler} · workerd ${m.workerd}`,
    "",
    `Settings: ${settings.connections} connections, ${settings.durationS} s per load run after ${settings.warmupS} s warm-up, ` +
      `then ${settings.oneAtATime} requests one at a time; upstream latency ${settings.latencies.join(" and ")} ms; ` +
      `embedded store: ${settings.searches} searches one at a time after ${settings.warmupSearches} warm-up, sizes ${settings.sizes.map(kilo).join(", ")}.`,
    "",
    "## Targets",
    "",
    "| target | measured | |",
    "|---|--:|---|",
    ...judge({ cloud, embedded, bundle, settings, targets }).map(
      (t) => `| ${t.target} | ${t.measured} | ${status(t.ok)} |`,
    ),
  ];
  for (const latencyMs of settings.latencies) {
    sections.push("", `## Against the fake MemOS, ${latencyMs} ms upstream latency`, "", cloudTable(cloud, latencyMs));
  }
  sections.push("", "## What wrangler dev's proxy adds (not in production)", "", proxyTable(cloud));
  if (embedded.length > 0) sections.push("", "## Embedded store (D1) search", "", embeddedTable(embedded));
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
