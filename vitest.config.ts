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
    // Most files mostly wait (git, the CLI, the server), so the default (one worker per core but
    // one: a single worker on two cores) leaves the machine idle. Four files per core overlap
    // those waits; all of them at once (29) made single tests on a loaded 2-core machine outlive
    // their timeouts without finishing the run sooner: what is left is CPU.
    maxWorkers: availableParallelism() * 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
