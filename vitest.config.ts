import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** wrangler.toml's [alias] stubs (src/mcp/stubs/); root-relative ids resolve against the project folder. */
const stub = (file: string) => `/src/mcp/stubs/${file}`;

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    // The pool ignores wrangler.toml's [alias]: repeated here, so tests run what deploys.
    resolve: {
      alias: [
        { find: /^ajv$/, replacement: stub("ajv.ts") },
        { find: /^ajv-formats$/, replacement: stub("ajv-formats.ts") },
        { find: /^zod-to-json-schema$/, replacement: stub("zod-to-json-schema.ts") },
        { find: /^zod\/v3$/, replacement: stub("zod-v3.ts") },
      ],
    },
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            // Test-only values; the MemOS key is set per test where the cloud backend is wanted.
            AUTH_TOKENS: "test-token,second-token",
            TEST_MIGRATIONS: migrations,
          },
          // Empty databases: test/schema.test.ts shows the Worker bringing its schema up itself
          // (test/setup.ts migrates MEMORY_DB before every file); test/store-ranges.test.ts migrates step by step.
          d1Databases: ["EMPTY_DB", "RACE_DB", "MIGRATION_DB"],
          // A tight limiter that tests swap in for RATE_LIMITER (whose real limit is in wrangler.toml).
          ratelimits: { TIGHT_RATE_LIMITER: { namespace_id: "9001", simple: { limit: 2, period: 60 } } },
          // Any outbound request a test did not mock answers 599, never the network.
          outboundService: () => new Response("unmocked outbound request", { status: 599 }),
        },
      }),
    ],
    test: {
      // e2e/ runs under node's test runner (npm run test:e2e), never in workerd.
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
      // The Worker logs one JSON line per request; show logs only for failing tests.
      silent: "passed-only" as const,
    },
  };
});
