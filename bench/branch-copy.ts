// 8. What the database following the branch costs (scripts/branches/branch-copies.ts): a copy is
//    `CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY` (taken before `db up` migrates), a switch is
//    two `ALTER DATABASE … RENAME`. Measured on a cluster with the settings `db up` uses (fsync on,
//    unlike the test server), at several database sizes: FILE_COPY with file_copy_method = clone
//    (what `db up`'s servers use: copy_file_range, a reflink where the filesystem has them),
//    with plain copy, and WAL_LOG, PostgreSQL's default strategy. Information only: no budget.

import { rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import {
  embeddedBinaries,
  initCluster,
  makeServerDir,
  startCluster,
  stopCluster,
} from "../src/postgres-cluster.ts";
import { freePort } from "../src/testing/server.ts";
import { type Measurement, median, ms, onCleanup, type Row, tempDir, timed } from "./lib.ts";

const SIZES_MB = [10, 100, 1000];
const REPS = 3;

export const branchCopy: Measurement = {
  id: "branch-copy",
  title: "branch copies of the local database",
  async measure({ log }) {
    const bin = await embeddedBinaries();
    // Beside the checkout, where a developer's .data/ is (bench/lib.ts tempDir).
    const root = tempDir("copy");
    makeServerDir(root);
    const dataDir = join(root, "pg");
    const port = await freePort();
    await initCluster({ bin, dataDir, superuser: "bench", password: "bench" });
    await startCluster({ bin, dataDir, port });
    onCleanup("branch-copy cluster", async () => {
      await stopCluster({ bin, dataDir }).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    });
    const admin = postgres(`postgres://bench:bench@127.0.0.1:${port}/postgres`, {
      max: 1,
      onnotice: () => {},
    });
    const rows: Row[] = [];
    try {
      for (const mb of SIZES_MB) {
        log(`filling a ${mb} MB database`);
        await admin.unsafe("DROP DATABASE IF EXISTS live");
        await admin.unsafe("CREATE DATABASE live");
        const live = postgres(`postgres://bench:bench@127.0.0.1:${port}/live`, { max: 1 });
        // ~1 kB rows: about 1000 per MB.
        await live.unsafe(
          `CREATE TABLE t AS SELECT g AS id, repeat(md5(g::text), 30) AS body FROM generate_series(1, ${mb * 1000}) g`,
        );
        const [size] = await live.unsafe("SELECT pg_database_size('live')::bigint AS bytes");
        await live.end();
        const actual = `${Math.round(Number(size?.bytes) / 1e6)} MB`;
        const time = async (sql: string, undo: string) => {
          const samples: number[] = [];
          for (let i = 0; i < REPS; i++) {
            samples.push((await timed(() => admin.unsafe(sql))).ms);
            await admin.unsafe(undo);
          }
          return median(samples);
        };
        const fileCopy = await time(
          "CREATE DATABASE copy TEMPLATE live STRATEGY FILE_COPY",
          "DROP DATABASE copy",
        );
        await admin.unsafe("SET file_copy_method = clone");
        const clone = await time(
          "CREATE DATABASE copy TEMPLATE live STRATEGY FILE_COPY",
          "DROP DATABASE copy",
        );
        await admin.unsafe("RESET file_copy_method");
        const walLog = await time(
          "CREATE DATABASE copy TEMPLATE live STRATEGY WAL_LOG",
          "DROP DATABASE copy",
        );
        const rename = await time(
          "ALTER DATABASE live RENAME TO live_saved",
          "ALTER DATABASE live_saved RENAME TO live",
        );
        const info = (measurement: string, value: number, baseline: string) =>
          rows.push({ measurement, value: ms(value), baseline, ratio: "—", budget: "—" });
        info(
          `copy before migrating, ${actual} (FILE_COPY, file_copy_method = clone)`,
          clone,
          `copy: ${ms(fileCopy)}; WAL_LOG: ${ms(walLog)}`,
        );
        info(`switch branches, ${actual} (RENAME)`, rename, "—");
      }
    } finally {
      await admin.end();
    }
    return { rows, sections: [] };
  },
};
