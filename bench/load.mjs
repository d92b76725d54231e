/**
 * Load runs with autocannon, and one-at-a-time latency samples with fetch.
 *
 * Autocannon keeps whole-millisecond histograms; the targets are about
 * fractions of a millisecond, so latencies are taken from its per-response
 * event (hrtime, sub-millisecond) and the percentiles computed here.
 */
import autocannon from "autocannon";

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summarize(latencies, seconds) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length,
    rps: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/**
 * One bounded autocannon run against `url`. `body` is a string (every
 * request identical) or a function called for each request's body (every
 * request different). Only 2xx responses count toward throughput and
 * latency; the rest are reported, never hidden.
 */
export async function drive({ url, headers, body, connections, durationS }) {
  const request =
    typeof body === "function"
      ? { method: "POST", setupRequest: (req) => ({ ...req, body: body() }) }
      : { method: "POST", body };
  const latencies = [];
  const instance = autocannon({
    url,
    connections,
    duration: durationS,
    headers: { "content-type": "application/json", ...headers },
    requests: [request],
    // The loopback server is local: a response slower than this is a failure, not a sample.
    timeout: 10,
  });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  return {
    ...summarize(latencies, result.duration),
    failures: result.non2xx + result.errors + result.timeouts,
    statusCodes: Object.keys(result.statusCodeStats).join(","),
  };
}

/** One request, timed: its latency in ms, or null when it failed. */
async function timed([url, init]) {
  const t0 = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  const ok = response?.ok === true;
  await response?.arrayBuffer();
  return ok ? performance.now() - t0 : null;
}

/**
 * The i-th request of every target, then the (i+1)-th, one request at a time:
 * targets compared this way see the same machine at the same moment, so a
 * drift in its speed (another process, a CPU clock) lands on all of them alike.
 * The order within a turn rotates, so no target always follows another.
 * `requests` maps a target's name to its `request(i)`; returns a summary per name.
 */
export async function interleaved({ count, requests }) {
  const names = Object.keys(requests);
  const latencies = Object.fromEntries(names.map((name) => [name, []]));
  const failures = Object.fromEntries(names.map((name) => [name, 0]));
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const latency = await timed(requests[name](i));
      if (latency === null) failures[name] += 1;
      else latencies[name].push(latency);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return Object.fromEntries(
    names.map((name) => [name, { ...summarize(latencies[name], seconds), failures: failures[name] }]),
  );
}
