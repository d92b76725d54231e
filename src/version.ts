/** Kept in step with package.json (checked in test/health.test.ts). */
export const VERSION = "0.1.0";
