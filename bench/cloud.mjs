/**
 * The side-by-side comparison against the fake MemOS: for each upstream
 * latency, each case is driven against direct → baseline → memos-edge back to
 * back, so the three numbers of a row share the machine's state.
 */
import { cloudCases, proxiedTargets, targets } from "./cases.mjs";
import { drive, sequential } from "./load.mjs";
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
 * Warm-up, requests one at a time (the latency a single caller sees, without
 * queueing), then one load run with the workerd CPU read around it.
 */
async function measure({ servers, target, kase, latencyMs, durationS, warmupS, connections, oneAtATime }) {
  const request = kase[target.request];
  const load = { url: `${target.url}${request.path}`, headers: target.headers, body: request.body, connections };
  // The duplicate-add case needs its first add completed before the load.
  if (kase.primeFirst) await send(target, request);
  // JIT, connection pools and isolate start-up are not what we measure.
  await drive({ ...load, durationS: warmupS });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

  const init = () => ({
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: typeof request.body === "function" ? request.body() : request.body,
  });
  const single = await sequential({ count: oneAtATime, request: () => [load.url, init()] });

  await servers.upstream.takeStats();
  const pids = target.server ? workerdProcesses(target.server) : undefined;
  const before = pids && { runtime: cpuMs(pids.runtime), proxy: cpuMs(pids.proxy) };
  const result = await drive({ ...load, durationS });
  const cpu = pids && {
    runtime: (cpuMs(pids.runtime) - before.runtime) / result.requests,
    proxy: (cpuMs(pids.proxy) - before.proxy) / result.requests,
  };
  const upstreamCalls = await servers.upstream.takeStats();
  return { latencyMs, case: kase.name, target: target.name, ...result, cpu, upstreamCalls, single };
}

function describe(row) {
  return (
    `  ${row.latencyMs} ms  ${row.case.padEnd(13)} ${row.target.padEnd(24)} ` +
    `${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms` +
    (row.cpu ? `  cpu ${row.cpu.runtime.toFixed(3)} ms/req` : "") +
    `  one at a time p50 ${row.single.p50.toFixed(2)} ms` +
    (row.failures + row.single.failures > 0
      ? `  ${row.failures + row.single.failures} failed (${row.statusCodes})`
      : "")
  );
}

export async function runCloud({ servers, latencies, durationS, warmupS, connections, oneAtATime, log }) {
  const rows = [];
  const run = async (target, kase, latencyMs) => {
    const row = await measure({ servers, target, kase, latencyMs, durationS, warmupS, connections, oneAtATime });
    rows.push(row);
    log(describe(row));
  };
  for (const latencyMs of latencies) {
    await servers.upstream.setLatency(latencyMs);
    for (const kase of cloudCases(`${latencyMs}ms`)) {
      for (const target of targets(servers)) await run(target, kase, latencyMs);
    }
  }
  // What wrangler dev's proxy adds, once: search at the first latency.
  const [first] = latencies;
  await servers.upstream.setLatency(first);
  const search = cloudCases("proxy").find((kase) => kase.name === "search");
  for (const target of proxiedTargets(servers)) await run(target, search, first);
  return rows;
}
