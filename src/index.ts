// @kata/db: the schema, a typed client, our migrator and the helpers that go with them.

export {
  API_KEY_PREFIX,
  apiKeyIsActive,
  createApiKey,
  hashApiKey,
  isApiKeyActive,
} from "./api-keys.ts";
export { type CreateDbOptions, closeDb, createDb, type Database } from "./client.ts";
export * from "./errors.ts";
export {
  type IntegrityFinding,
  verifyIntegrity,
  type WrittenIntegrityFile,
  writeIntegrityFile,
} from "./integrity.ts";
export { MIGRATIONS_FOLDER, NO_TRANSACTION_MARKER, readMigrations } from "./migrations.ts";
export { MigrationError, type MigrationStatus, migrate, migrationStatus } from "./migrator.ts";
export * from "./schema/index.ts";
