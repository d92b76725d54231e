/**
 * Load runs with autocannon, and sequential latency samples with fetch.
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

/**
 * `count` requests one after another (no concurrency): the latency one caller
 * sees. `request(i)` returns fetch's `[url, init]` for the i-th request.
 */
export async function sequential({ count, request }) {
  const latencies = [];
  let failures = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const [url, init] = request(i);
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    const ok = response?.ok === true;
    await response?.arrayBuffer();
    if (ok) latencies.push(performance.now() - t0);
    else failures += 1;
  }
  return { ...summarize(latencies, (performance.now() - started) / 1000), failures };
}
