// Vitest global setup of this package's own tests: @kata/db/testing's (one server, the template
// migrated with the committed migrations, reused while they are unchanged; test files clone it),
// plus the `db` CLI bundled once for the CLI tests.

import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { processExists } from "../../scripts/lib/system.ts";
import harness from "../../src/testing/index.ts";
import { memoryDir } from "../../src/testing/server.ts";
import { PACKAGE_ROOT } from "../helpers/project-copy.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `db` CLI bundled once for this run (scripts/build-cli.mjs), run by test/cli/helpers.ts. */
    cliBundle: string;
  }
}

/**
 * The CLI as scripts/bin/db runs it (one plain node process on a bundle), built once here rather
 * than by the first of many concurrent calls; tsx would cost ~0.3 s of CPU per call.
 */
function bundleCli(): { file: string; remove: () => void } {
  // Under node_modules, like scripts/bin/db's: the packages it leaves out resolve from there.
  const cache = join(PACKAGE_ROOT, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "kata-db-test-cli-"));
  const file = join(dir, "db.mjs");
  execFileSync(process.execPath, [join(PACKAGE_ROOT, "scripts", "build-cli.mjs"), file], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The scratch folder of every test file (os.tmpdir(), read through TMPDIR by each forked
 * worker and each process it starts): one per run, in memory where the machine has room.
 * The tests make thousands of files there (project copies, git repositories, clusters), and
 * making a file can cost far more on disk: 1.1 ms each in /tmp on this machine's ext4, 0.01 ms
 * in /dev/shm, which took `npm test` from 91 s to 69 s. Open to all (0755) like /tmp: as root
 * the clusters' server user must reach the projects in it.
 */
/** A run's scratch folder untouched for this long, its process gone, is a killed run's. */
const STALE_MS = 6 * 3600 * 1000;

function scratchDir(): { dir: string; remove: () => void } {
  const parent = memoryDir();
  // Memory is not freed by a reboot that never comes: those of runs killed midway go first. A
  // pid alone cannot say so: a run in another PID namespace sharing /dev/shm (a container, the
  // Nix sandbox's stand-in) has pids this one cannot see, and one such run's folder was once
  // removed under it. A live run also makes files in its folder all the time (its mtime).
  const now = Date.now();
  for (const name of readdirSync(parent)) {
    const pid = /^kata-db-tests-(\d+)-/.exec(name)?.[1];
    const path = join(parent, name);
    if (pid && !processExists(Number(pid)) && now - statSync(path).mtimeMs > STALE_MS) {
      rmSync(path, { recursive: true, force: true });
    }
  }
  const dir = mkdtempSync(join(parent, `kata-db-tests-${process.pid}-`));
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export default async function setup(project: TestProject) {
  const scratch = scratchDir();
  process.env.TMPDIR = scratch.dir;
  const cli = bundleCli();
  project.provide("cliBundle", cli.file);
  const stopServer = await harness(project);
  return async () => {
    await stopServer();
    cli.remove();
    scratch.remove();
  };
}
