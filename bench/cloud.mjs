/**
 * The side-by-side comparison against the fake MemOS: for each upstream
 * latency, each case is driven against direct → baseline → memos-edge back to
 * back, so the three numbers of a row share the machine's state.
 */
import { readFileSync, statSync } from "node:fs";
import { cloudCases, proxiedTargets, queuedCase, queuedTarget, targets } from "./cases.mjs";
import { drive, interleaved, percentile } from "./load.mjs";
import { cpuMs, workerdProcesses } from "./processes.mjs";

/** One request, awaited; returns the parsed answer. */
async function send(target, request) {
  const response = await fetch(`${target.url}${request.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: request.body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${target.name} ${request.path} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Checks every target answers every case correctly before anything is timed. */
export async function checkTargets(servers) {
  for (const target of [...targets(servers), ...proxiedTargets(servers)]) {
    for (const kase of cloudCases("check")) {
      const request = kase[target.request];
      const answer = await send(target, {
        path: request.path,
        body: typeof request.body === "function" ? request.body() : request.body,
      });
      // The whole fake payload must come through, or search would be measured on less work than it claims.
      if (target.request === "edge" && kase.name === "search" && !(answer.count >= 20)) {
        throw new Error(
          `${target.name} search returned ${answer.count} memories, expected the fake MemOS's 20 and more`,
        );
      }
    }
  }
  const stats = await servers.upstream.takeStats();
  if (stats.rejected > 0) throw new Error(`the fake MemOS rejected ${stats.rejected} of the check requests`);
}

/**
 * Pause after a load run: workerd still finishes the requests autocannon cut
 * off at its end, and that work must not land in the next measurement.
 */
const SETTLE_MS = 500;

/**
 * How long queued adds may take to reach the fake MemOS after the last one was
 * accepted. Local Queues deliver one batch (10) at a time and hold a part
 * batch back max_batch_timeout (5 s).
 */
export const DRAIN_TIMEOUT_MS = 30_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the fake MemOS until it has received `expected` queued adds whose
 * conversation id starts with `prefix` (counting from `reached`), or the drain
 * timeout passes; returns the adds received and how long that took.
 */
async function drain(upstream, prefix, expected, reached = 0) {
  const started = performance.now();
  while (reached < expected && performance.now() - started < DRAIN_TIMEOUT_MS) {
    await sleep(100);
    reached += arrived(await upstream.takeStats(), prefix);
  }
  return { reached, ms: performance.now() - started };
}

const arrived = (stats, prefix) => stats.queued.filter((conversation) => conversation.startsWith(prefix)).length;

/** The consumer's delivery lines (src/queue/consumer.ts `log`) in wrangler dev's log from byte `offset` on. */
function deliveryLines(logFile, offset) {
  const lines = [];
  for (const line of readFileSync(logFile).subarray(offset).toString("utf8").split("\n")) {
    const start = line.indexOf("{");
    if (start < 0 || !line.includes('"queue":"adds"')) continue;
    try {
      const fields = JSON.parse(line.slice(start));
      if (fields.queue === "adds" && typeof fields.outcome === "string") lines.push(fields);
    } catch {
      // Not one of ours.
    }
  }
  return lines;
}

/** Asks for one queued add and checks it was queued (202), not delivered directly. */
async function checkQueued(target, request) {
  const response = await fetch(`${target.url}${request.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: request.body(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 202 || !text.includes('"queued"'))
    throw new Error(`memos-edge queued add answered ${response.status}, expected 202: ${text.slice(0, 300)}`);
}

/**
 * The delivery of the queued adds of one load run: waits until every add the
 * load run got a 202 for reached the fake MemOS (bounded), then reads the
 * consumer's lag lines logged since `offset`.
 */
async function delivery({ server, upstream, prefix, accepted, duringLoad, offset }) {
  const { reached, ms } = await drain(upstream, prefix, accepted, duringLoad);
  // The consumer logs after the upstream answered; wrangler ships the line a moment later.
  let lines = deliveryLines(server.logFile, offset);
  for (let waited = 0; waited < 3_000 && lines.filter((l) => "lag_ms" in l).length < reached; waited += 250) {
    await sleep(250);
    lines = deliveryLines(server.logFile, offset);
  }
  const lags = Float64Array.from(lines.filter((l) => typeof l.lag_ms === "number").map((l) => l.lag_ms)).sort();
  return {
    accepted,
    reached,
    drainMs: ms,
    delivered: lags.length,
    lagP50: percentile(lags, 50),
    lagP99: percentile(lags, 99),
    lagMax: lags.length > 0 ? lags[lags.length - 1] : Number.NaN,
    retries: lines.filter((l) => l.outcome === "retry").length,
    failed: lines.filter((l) => l.outcome === "failed").length,
  };
}

/**
 * Warm-up (JIT, connection pools and isolate start-up are not what we
 * measure); returns what the later phases send.
 */
async function prepare({ servers, target, kase, warmupS, connections }) {
  const request = kase[target.request];
  const load = { url: `${target.url}${request.path}`, headers: target.headers, body: request.body, connections };
  // The duplicate-add case needs its first add completed before the load.
  if (kase.primeFirst) await send(target, request);
  if (kase.queued) {
    await servers.upstream.takeStats();
    await checkQueued(target, request);
  }
  const warm = await drive({ ...load, durationS: warmupS });
  await sleep(SETTLE_MS);
  const init = () => ({
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: typeof request.body === "function" ? request.body() : request.body,
  });
  return { target, kase, load, warmed: warm.requests, single: () => [load.url, init()] };
}

/** The load run of a prepared target, with the workerd CPU read around it; `single` is its one-at-a-time summary. */
async function loadRun({ servers, prepared, single, latencyMs, durationS, started }) {
  const { target, kase, load } = prepared;
  if (kase.queued) {
    // The queue must be empty before the load run, so its deliveries and lags are the load's own.
    const before = 1 + prepared.warmed + single.requests;
    const { reached } = await drain(servers.upstream, "q-", before);
    // Reported, not asserted (the load run's own delivery is what the Targets table judges).
    if (reached < before)
      console.error(`  queued add: only ${reached} of ${before} adds queued before the load reached the fake MemOS`);
  }
  const offset = kase.queued ? statSync(target.server.logFile).size : 0;
  kase.setPhase?.("load");
  await servers.upstream.takeStats();
  const pids = target.server ? workerdProcesses(target.server) : undefined;
  const before = pids && { runtime: cpuMs(pids.runtime), proxy: cpuMs(pids.proxy) };
  const result = await drive({ ...load, durationS });
  const cpu = pids && {
    runtime: (cpuMs(pids.runtime) - before.runtime) / result.requests,
    proxy: (cpuMs(pids.proxy) - before.proxy) / result.requests,
  };
  const upstreamCalls = await servers.upstream.takeStats();
  const queue =
    kase.queued &&
    (await delivery({
      server: target.server,
      upstream: servers.upstream,
      prefix: kase.conversations("load"),
      accepted: result.requests,
      duringLoad: arrived(upstreamCalls, kase.conversations("load")),
      offset,
    }));
  await sleep(SETTLE_MS);
  return {
    latencyMs,
    case: kase.name,
    target: target.name,
    ...result,
    cpu,
    upstreamCalls,
    single,
    // The queued case's wall time (its drains included), for the bench's total run time.
    ...(queue && { delivery: { ...queue, caseS: (performance.now() - started) / 1000 } }),
  };
}

/**
 * One case against `targets` side by side: each warmed up, then their requests
 * one at a time interleaved (the latency a single caller sees, without
 * queueing, every target sampled at the same moments), then a load run each.
 */
async function measure({ servers, targets, kase, latencyMs, durationS, warmupS, connections, oneAtATime }) {
  const started = performance.now();
  const prepared = [];
  for (const target of targets) prepared.push(await prepare({ servers, target, kase, warmupS, connections }));
  const singles = await interleaved({
    count: oneAtATime,
    requests: Object.fromEntries(prepared.map((p) => [p.target.name, p.single])),
  });
  const rows = [];
  for (const p of prepared) {
    rows.push(await loadRun({ servers, prepared: p, single: singles[p.target.name], latencyMs, durationS, started }));
  }
  return rows;
}

function describe(row) {
  return (
    `  ${row.latencyMs} ms  ${row.case.padEnd(13)} ${row.target.padEnd(24)} ` +
    `${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms` +
    (row.cpu ? `  cpu ${row.cpu.runtime.toFixed(3)} ms/req` : "") +
    `  one at a time p50 ${row.single.p50.toFixed(2)} ms` +
    (row.failures + row.single.failures > 0
      ? `  ${row.failures + row.single.failures} failed (${row.statusCodes})`
      : "") +
    (row.delivery
      ? `\n      queue: ${row.delivery.reached} of ${row.delivery.accepted} accepted reached MemOS, drained ${(row.delivery.drainMs / 1000).toFixed(1)} s after the load; ` +
        `lag p50 ${row.delivery.lagP50} ms p99 ${row.delivery.lagP99} ms max ${row.delivery.lagMax} ms (${row.delivery.delivered} lines); case took ${row.delivery.caseS.toFixed(0)} s`
      : "")
  );
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * One row from several rounds of the same case and target: each figure is its
 * median over the rounds; counts and failures are the median-throughput round's.
 */
export function medianRow(rounds) {
  if (rounds.length === 1) return rounds[0];
  const middle = [...rounds].sort((a, b) => a.rps - b.rps)[Math.floor(rounds.length / 2)];
  const of = (pick) => median(rounds.map(pick));
  return {
    ...middle,
    rounds: rounds.length,
    rps: of((r) => r.rps),
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    cpu: middle.cpu && { runtime: of((r) => r.cpu.runtime), proxy: of((r) => r.cpu.proxy) },
    single: { ...middle.single, p50: of((r) => r.single.p50), p99: of((r) => r.single.p99) },
  };
}

export async function runCloud({ servers, latencies, rounds, durationS, warmupS, connections, oneAtATime, log }) {
  const rows = [];
  const options = { servers, durationS, warmupS, connections, oneAtATime };
  const run = async (target, kase, latencyMs) => {
    const [row] = await measure({ ...options, targets: [target], kase, latencyMs });
    rows.push(row);
    log(describe(row));
  };
  for (const [index, latencyMs] of latencies.entries()) {
    await servers.upstream.setLatency(latencyMs);
    // The targets are judged at the first latency: each round measures every target, so a
    // slow moment of this shared machine lands in one round of each, not in one target.
    const roundsHere = index === 0 ? rounds : 1;
    for (const kase of cloudCases(`${latencyMs}ms`)) {
      const measured = new Map();
      for (let round = 1; round <= roundsHere; round++) {
        for (const row of await measure({ ...options, targets: targets(servers), kase, latencyMs })) {
          log(`${describe(row)}${roundsHere > 1 ? `  (round ${round} of ${roundsHere})` : ""}`);
          measured.set(row.target, [...(measured.get(row.target) ?? []), row]);
        }
      }
      for (const list of measured.values()) rows.push(medianRow(list));
    }
    // Last at each latency: its deliveries run on after its answers, and are drained before the next row.
    await run(queuedTarget(servers), queuedCase(`${latencyMs}ms`), latencyMs);
  }
  // What wrangler dev's proxy adds, once: search at the first latency.
  const [first] = latencies;
  await servers.upstream.setLatency(first);
  const search = cloudCases("proxy").find((kase) => kase.name === "search");
  for (const target of proxiedTargets(servers)) await run(target, search, first);
  return rows;
}
