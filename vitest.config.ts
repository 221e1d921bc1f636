import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts (or connects to) one PostgreSQL server and migrates a template database once.
    globalSetup: ["test/setup/global.ts"],
    // Each test file clones its own database from the template, so files run in parallel.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
