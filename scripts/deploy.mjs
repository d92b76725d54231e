#!/usr/bin/env node
/**
 * `npm run deploy`: a fresh clone (after `npx wrangler login`) to a working Worker.
 *
 * 1. `wrangler deploy`. On the first deploy wrangler creates the KV namespace and
 *    the D1 database (bindings without an id: automatic provisioning) and the
 *    Durable Object class. The D1 schema needs no step: the Worker applies
 *    migrations/ itself on first use (src/store/schema.ts).
 * 2. After a real deploy: if the Worker has no AUTH_TOKENS secret yet, says how
 *    to set one (every memory call answers 503 until then).
 *
 * Extra arguments go to `wrangler deploy`: `npm run deploy -- --dry-run --outdir dist`
 * bundles offline and stops after step 1 (that is `npm run build`).
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };
const wrangler = (args, options = {}) => spawnSync("wrangler", args, { cwd: root, env, ...options });

const args = process.argv.slice(2);
const deployed = wrangler(["deploy", ...args], { stdio: "inherit" });
if (deployed.status !== 0) process.exit(deployed.status ?? 1);
if (args.includes("--dry-run")) process.exit(0);

const listed = wrangler(["secret", "list", "--format", "json"], { encoding: "utf8" });
let names = null;
try {
  names = JSON.parse(listed.stdout).map((secret) => secret.name);
} catch {
  // Not fatal: the deploy itself succeeded.
}

console.log(
  "\nmemos-edge is deployed. Open the Worker's URL (above) for its setup page: status, a token check and the Dify settings.",
);
if (names === null) {
  console.log(
    "Could not list the Worker's secrets. If AUTH_TOKENS is not set yet: npm run token, then npx wrangler secret put AUTH_TOKENS",
  );
} else if (!names.includes("AUTH_TOKENS")) {
  console.log(`
No caller token is set yet: every memory call answers 503 not_configured until one is.
  npm run token                        # makes a strong random token
  npx wrangler secret put AUTH_TOKENS  # paste it when asked`);
} else {
  console.log("AUTH_TOKENS is set.");
}
if (names !== null && !names.includes("MEMOS_API_KEY")) {
  console.log("No MEMOS_API_KEY: the embedded D1 store serves. For MemOS cloud: npx wrangler secret put MEMOS_API_KEY");
}
