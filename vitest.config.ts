import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts (or connects to) one PostgreSQL server and migrates a template database once.
    globalSetup: ["test/setup/global.ts"],
    // Each test file clones its own database from the template, so files run in parallel, in
    // forked workers. A worker runs its files one after another in one process (isolate false):
    // a new process per file cost ~1 CPU-second each, vitest and the modules started again,
    // ~60 CPU-seconds of the suite. What a file changes in the process is undone after it, and
    // what its helpers made is removed (test/setup/per-file.ts).
    pool: "forks",
    isolate: false,
    setupFiles: ["test/setup/per-file.ts"],
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
