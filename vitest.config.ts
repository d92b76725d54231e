import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            // Test-only values; the MemOS key is set per test where the cloud backend is wanted.
            AUTH_TOKENS: "test-token,second-token",
            TEST_MIGRATIONS: migrations,
          },
          // An empty database of its own for the migration test (test/store-ranges.test.ts).
          d1Databases: { MIGRATION_DB: "migration-test" },
          // A tight limiter that tests swap in for RATE_LIMITER (whose real limit is in wrangler.toml).
          ratelimits: { TIGHT_RATE_LIMITER: { namespace_id: "9001", simple: { limit: 2, period: 60 } } },
          // Any outbound request a test did not mock answers 599, never the network.
          outboundService: () => new Response("unmocked outbound request", { status: 599 }),
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      // The Worker logs one JSON line per request; show logs only for failing tests.
      silent: "passed-only" as const,
    },
  };
});
