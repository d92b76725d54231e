/**
 * Workers are built once per run, as `wrangler deploy` would upload them
 * (offline dry run), and served from that build. Serving a snapshot means
 * edits to src/ or node_modules/ during the run cannot make wrangler dev
 * reload a Worker mid-measurement, and the code timed is the code weighed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { experimental_readRawConfig } from "wrangler";
import { wrangler } from "./processes.mjs";

/** Builds the Worker of `config` into `outdir`; returns wrangler's output, the entry and esbuild's metafile path. */
export async function buildWorker(config, outdir) {
  const metafile = join(outdir, "meta.json");
  const output = await wrangler(
    ["deploy", "--dry-run", "--config", config, "--outdir", outdir, "--metafile", metafile],
    {
      timeoutMs: 120_000,
    },
  );
  return { output, entry: join(outdir, "index.js"), metafile };
}

/** `node_modules/zod/v4/core/x.js` → `zod`, `src/memos/x.ts` → `src/memos`. */
function ownerOf(input) {
  const parts = input.split("node_modules/");
  if (parts.length === 1) return input.split("/").slice(0, 2).join("/");
  const path = parts.at(-1).split("/");
  return path[0].startsWith("@") ? `${path[0]}/${path[1]}` : path[0];
}

/**
 * What only the MCP server (/mcp) brings: the SDK, its JSON Schema validator,
 * src/mcp/ and its sub-app. zod and hono are shared with every other route.
 */
const MCP_PARTS = [
  "node_modules/@modelcontextprotocol/sdk/",
  "node_modules/@cfworker/json-schema/",
  "src/mcp/",
  "src/handlers/mcp.ts",
];

/**
 * Upload size as wrangler reports it, the five largest contributors (so a
 * blown budget says where to look), and the MCP server's share: one build
 * with /mcp, its bytes counted from esbuild's metafile.
 */
export function bundleSize(built) {
  const sizes = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(built.output);
  if (!sizes) throw new Error(`no "Total Upload" line in wrangler's output:\n${built.output}`);
  const owners = new Map();
  let mcpBytes = 0;
  let totalBytes = 0;
  for (const out of Object.values(JSON.parse(readFileSync(built.metafile, "utf8")).outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      owners.set(ownerOf(input), (owners.get(ownerOf(input)) ?? 0) + bytesInOutput);
      totalBytes += bytesInOutput;
      if (MCP_PARTS.some((part) => input.includes(part))) mcpBytes += bytesInOutput;
    }
  }
  const largest = [...owners]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, bytes]) => ({ name, kib: bytes / 1024 }));
  const gzipKiB = Number(sizes[2]);
  const share = totalBytes > 0 ? mcpBytes / totalBytes : 0;
  return {
    rawKiB: Number(sizes[1]),
    gzipKiB,
    largest,
    // gzip does not split by module: the share of raw bytes, applied to the gzip size, is an estimate.
    mcp: { rawKiB: mcpBytes / 1024, share, gzipKiBEstimate: gzipKiB * share },
  };
}

/**
 * Writes `config` rewritten to serve the built `entry` as-is, to `path`.
 * Living outside the project root, it also never loads a developer's
 * .dev.vars (which may hold a real MemOS key).
 */
export function servingConfig(config, entry, path) {
  const { rawConfig, configPath } = experimental_readRawConfig({ config });
  const serving = {
    ...rawConfig,
    main: entry,
    no_bundle: true,
    d1_databases: (rawConfig.d1_databases ?? []).map((db) => ({
      ...db,
      migrations_dir: join(configPath, "..", db.migrations_dir ?? "migrations"),
    })),
  };
  // Kept as they are: the [[queues.producers]] and [[queues.consumers]] blocks,
  // so queued adds (ADD_QUEUE) are enqueued and delivered by this same Worker
  // under wrangler dev (the bench's queued-add case).
  // Left out on purpose: locally the rate limiter is a SQLite-backed Durable
  // Object hit on every request (in production it is an in-memory counter),
  // and its per-token limit would turn a load run into 429s.
  delete serving.ratelimits;
  if (rawConfig.queues && !(serving.queues?.producers?.length && serving.queues?.consumers?.length))
    throw new Error(`${config}: the served config lost its queues producer or consumer`);
  writeFileSync(path, JSON.stringify(serving, null, 2));
  return path;
}
