/**
 * `npm run test:e2e`: the e2e/*.test.mjs files under node's test runner, one
 * at a time, then a plain closing line `N passed, N failed` (what CI reads).
 * Exits non-zero on any failure.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "node:test";

const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".test.mjs"))
  .sort()
  .map((name) => join(dir, name));

let passed = 0;
let failed = 0;
for await (const event of run({ files, concurrency: 1 })) {
  const { data } = event;
  if (event.type === "test:pass" && data.details.type !== "suite") {
    passed += 1;
    console.log(`✓ ${data.name} (${Math.round(data.details.duration_ms)} ms)`);
  } else if (event.type === "test:fail") {
    const error = data.details.error;
    // A suite fails when one of its tests did: that test is counted already.
    if (data.details.type === "suite" && error?.failureType === "subtestsFailed") continue;
    failed += 1;
    const cause = error?.cause ?? error;
    console.log(`✗ ${data.name}\n  ${String(cause?.stack ?? cause).replaceAll("\n", "\n  ")}`);
  } else if (event.type === "test:diagnostic" && data.nesting > 0) {
    console.log(`  ${data.message}`);
  } else if (event.type === "test:stderr" || event.type === "test:stdout") {
    process.stdout.write(data.message);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
