// The scratch folder of every test file (os.tmpdir(), read through TMPDIR by each forked worker
// and each process it starts): one per run, in memory where the machine has room. The tests make
// thousands of files there (project copies, git repositories, clusters), and making a file can
// cost far more on disk: 1.1 ms each in some directories of this machine's ext4, 0.01 ms in
// /dev/shm, which took `npm test` from 91 s to 61 s.

import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { processExists } from "../../scripts/basics/system.ts";
import { reapNow, removeAtExit } from "../../src/testing/reaper.ts";
import { memoryDir } from "../../src/testing/server.ts";

const PREFIX = "kata-db-tests-";
/** A run's scratch folder untouched for this long, its process gone, is a killed run's. */
const STALE_MS = 6 * 3600 * 1000;

/**
 * Memory is not freed by a reboot that never comes: the folders of runs killed midway go. A pid
 * alone cannot say so: a run in another PID namespace sharing /dev/shm (a container, the Nix
 * sandbox's stand-in) has pids this one cannot see, and one such run's folder was once removed
 * under it. A live run makes files in its folder all the time, so its folder's mtime is recent.
 */
export function removeKilledRuns(parent: string, now = Date.now()): void {
  for (const name of readdirSync(parent)) {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    const path = join(parent, name);
    if (pid && !processExists(Number(pid)) && now - statSync(path).mtimeMs > STALE_MS) {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/**
 * This run's folder, open to all (0755) like /tmp: as root the clusters' server user must reach
 * it. Watched by the reaper (src/testing/reaper.ts): when the run ends without its teardown, every
 * process started with TMPDIR pointing here (workers, CLI calls, servers) is stopped and the folder
 * removed. remove() first stops the servers still running from it (a worker vitest killed could
 * not stop its own), then removes it.
 */
export function scratchDir(parent = memoryDir()): { dir: string; remove: () => void } {
  removeKilledRuns(parent);
  const dir = mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  const forget = removeAtExit(dir);
  chmodSync(dir, 0o755);
  return {
    dir,
    remove: () => {
      reapNow([dir]);
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}
