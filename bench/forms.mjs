/**
 * Form parsing at the size cap (issue 14): a form-urlencoded body just under
 * MAX_BODY_BYTES, sent to /v1/search one at a time — a valid form with one
 * huge field, and the hostile one of 120,000 repeated keys that once took
 * 30 s. Every answer is timed whatever its status (the hostile one is refused).
 */
import { EDGE_TOKEN } from "./cases.mjs";

/** wrangler.toml's MAX_BODY_BYTES. */
const BODY_CAP = 262_144;
const REPEATED_KEYS = 120_000;

export function formBodies() {
  const prefix = "user_id=bench-user&top_k=20&query=";
  return [
    {
      name: "one huge field",
      body: `${prefix}${"tea ".repeat((BODY_CAP - prefix.length - 64) / 4)}`.replaceAll(" ", "+"),
    },
    {
      name: `${REPEATED_KEYS.toLocaleString("en")} repeated keys`,
      body: `user_id=u&query=q${"&a".repeat(REPEATED_KEYS)}`,
    },
  ];
}

export async function measureForms({ url, count, log }) {
  const rows = [];
  for (const { name, body } of formBodies()) {
    if (body.length > BODY_CAP) throw new Error(`form "${name}" is ${body.length} bytes, over the cap`);
    const times = [];
    const statuses = new Set();
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/v1/search`, {
        method: "POST",
        headers: { authorization: `Bearer ${EDGE_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      await response.arrayBuffer();
      times.push(performance.now() - started);
      statuses.add(response.status);
    }
    times.sort((a, b) => a - b);
    const row = {
      name,
      bytes: body.length,
      count,
      p50: times[Math.floor((times.length - 1) / 2)],
      max: times.at(-1),
      statuses: [...statuses].join(","),
    };
    rows.push(row);
    log(
      `  form, ${name} (${(row.bytes / 1024).toFixed(0)} KiB): p50 ${row.p50.toFixed(2)} ms, max ${row.max.toFixed(2)} ms, status ${row.statuses}`,
    );
  }
  return rows;
}
