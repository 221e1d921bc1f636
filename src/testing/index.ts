// @kata/db/testing: test databases for packages that build on @kata/db (and for its own tests).
//   vitest.config.ts:  test: { globalSetup: ["@kata/db/testing"] }
//   a test file:       const t = useTestDatabase();  // t.db, t.sql, t.url: this file's own
//   the same data as `db seed`:  await seed(t.db); seedIds.ada, DEV_API_KEY
// The default export is the global setup; see docs/testing.md, "The harness".

export {
  createTestDatabase,
  dropTestDatabase,
  type KataDbTestContext,
  type TestDatabase,
  testContext,
  type UseTestDatabaseOptions,
  useTestDatabase,
} from "./database.ts";
export { default } from "./global-setup.ts";
export { DEV_API_KEY, ids as seedIds, seed } from "./seed.ts";
export { ensureTemplate, templateName } from "./template.ts";
