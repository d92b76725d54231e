/**
 * The deploy and token scripts, run as a user runs them (offline: the deploy
 * is a dry run, which is what `npm run build` and CI run too).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..");
const node = (args) =>
  spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });

describe("npm run deploy", () => {
  it("needs no resource ids: wrangler.toml has none, and a dry run bundles with the bindings unprovisioned", () => {
    const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    assert.doesNotMatch(config, /^\s*(id|database_id)\s*=/m);
    const outdir = mkdtempSync(join(tmpdir(), "memos-edge-deploy-"));
    const run = node(["scripts/deploy.mjs", "--dry-run", "--outdir", outdir]);
    const output = run.stdout + run.stderr;
    assert.equal(run.status, 0, output);
    assert.match(output, /env\.DEDUPE\s+KV Namespace/);
    assert.match(output, /env\.MEMORY_DB \(memos-edge\)\s+D1 Database/);
    assert.match(output, /--dry-run: exiting now/);
    // A dry run stops before the after-deploy checks, which need an account.
    assert.doesNotMatch(output, /memos-edge is deployed/);
  });
});

describe("npm run token", () => {
  it("prints a fresh 256-bit token without commas, and the command that sets it", () => {
    const tokens = [node(["scripts/token.mjs", "--raw"]), node(["scripts/token.mjs", "--raw"])].map((r) =>
      r.stdout.trim(),
    );
    for (const token of tokens) assert.match(token, /^mse_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(tokens[0], tokens[1]);
    const help = node(["scripts/token.mjs"]).stdout;
    assert.match(help, /npx wrangler secret put AUTH_TOKENS/);
    assert.match(help, /Rotation/);
  });
});
