import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // One PostgreSQL for the run and a template migrated with @kata/db's migrations (made once,
    // reused while they are unchanged); useTestDatabase() gives each file a clone of its own.
    globalSetup: ["@kata/db/testing"],
  },
});
