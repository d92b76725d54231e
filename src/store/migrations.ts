/**
 * Every file of migrations/, bundled as its text (wrangler's default module
 * rules import `*.sql` as Text, and the test pool follows them). The export
 * name is the file name, which wrangler records in its `d1_migrations` table.
 *
 * Adding a migration: add its file to migrations/ and one line here.
 * test/schema.test.ts fails while a file of migrations/ is missing.
 */
export { default as "0001_memories.sql" } from "../../migrations/0001_memories.sql";
export { default as "0002_memories_by_user_rowid.sql" } from "../../migrations/0002_memories_by_user_rowid.sql";
export { default as "0003_memory_management.sql" } from "../../migrations/0003_memory_management.sql";
export { default as "0004_user_rowid_ranges.sql" } from "../../migrations/0004_user_rowid_ranges.sql";
export { default as "0005_tenants.sql" } from "../../migrations/0005_tenants.sql";
