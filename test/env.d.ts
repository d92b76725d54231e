import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Set by vitest.config.ts from ./migrations. */
      TEST_MIGRATIONS: D1Migration[];
      /** Allows 2 requests a minute per key (vitest.config.ts). */
      TIGHT_RATE_LIMITER: RateLimit;
      /** Empty D1 databases, never migrated by test/setup.ts (vitest.config.ts). */
      EMPTY_DB: D1Database;
      RACE_DB: D1Database;
      /** An empty D1 database, migrated step by step by the migration test. */
      MIGRATION_DB: D1Database;
      AUTH_TOKENS?: string;
      MEMOS_API_KEY?: string;
      MEMOS_SERVER_KEY?: string;
    }
  }
}
