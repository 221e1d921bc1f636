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
    // Most files wait on git, the CLI and the server, so the default (one worker per core but one:
    // a single worker on two cores) leaves the machine idle. But the suite as a whole is bound by
    // CPU (≈140 s of it on two cores), so beyond two files per core more only stretch the long
    // serial files at the end: 55 s against 60 s without a Docker engine, 73–82 s against 83–87 s
    // with one, for two and four per core (this machine, alternated runs).
    maxWorkers: availableParallelism() * 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
