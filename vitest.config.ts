import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts (or connects to) one PostgreSQL server and migrates a template database once.
    globalSetup: ["test/setup/global.ts"],
    // Each test file runs in a process of its own and clones its own database from the template,
    // so files run in parallel.
    pool: "forks",
    // Most files mostly wait (git, the CLI, initdb, the server), so the default (one worker per
    // core but one: a single worker on two cores) leaves the machine idle. Every file may start at
    // once; what is left of the time is CPU.
    maxWorkers: Math.max(availableParallelism() * 8, 16),
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
