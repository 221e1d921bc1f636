// 1. `db up` from nothing (no .data/) to a migrated database on the embedded backend, against
//    (a) the floor: the same binaries driven by hand — initdb, pg_ctl start, psql applying the
//        same SQL files — with nothing else around them, and
//    (b) the in-process alternative: a fresh PGlite instance with the same migrations applied.
// Budget: within 0.5× the floor (the cluster comes from the cache of already initialised ones,
// src/cluster-cache.ts, filled by the warm-up round), and faster than PGlite. Measured twice:
// taking the spare copy the cache keeps ready (every `db up` from nothing after the first), and
// without one (the cache's entry copied), as information.

import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { which } from "../scripts/basics/system.ts";
import { clusterCacheDir } from "../src/cluster-cache.ts";
import { readJournal } from "../src/migrations.ts";
import {
  embeddedBinaries,
  initdbArgs,
  makeServerDir,
  type PostgresBinaries,
  serverUser,
} from "../src/postgres-cluster.ts";
import { freePort } from "../src/testing/server.ts";
import { copyProject } from "../test/helpers/project-copy.ts";
import {
  cliEnv,
  DB,
  type Measurement,
  median,
  ms,
  mustRun,
  onCleanup,
  PACKAGE_ROOT,
  ratio,
  removeTempDir,
  run,
  spread,
  table,
  tempDir,
} from "./lib.ts";

/** Rounds of the three contenders, interleaved so that a noisy moment hits all of them. */
const ROUNDS = 5;
const PASSWORD = "bench-Passw0rd";
const SQL_FILES = readJournal().entries.map((e) => join(PACKAGE_ROOT, "drizzle", `${e.tag}.sql`));

/** `db up` in a new project directory; `db down --volumes` afterwards (not timed). */
async function dbUp(): Promise<number> {
  const root = tempDir("up");
  const [pgPort, redisPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(root, ".env"),
    `DATABASE_URL=postgres://kata:${PASSWORD}@127.0.0.1:${pgPort}/kata\nREDIS_URL=redis://127.0.0.1:${redisPort}\n`,
  );
  const env = cliEnv({ KATA_DB_ROOT: root });
  const down = onCleanup(`db down in ${root}`, () => run(DB, ["down", "--volumes"], { env }));
  try {
    return (await mustRun(DB, ["up", "--backend", "embedded"], { env })).ms;
  } finally {
    await down();
    await removeTempDir(root);
  }
}

/**
 * The first `db up` of a fresh clone, as a new teammate runs it: this checkout's files copied
 * (copyProject), `npm ci` in the copy (not timed: a new node_modules, every file of it new, and no
 * CLI bundle yet), then its own scripts/bin/db up, with its own .env on free ports. The per-user
 * cluster cache is the one the other rounds use: a teammate who has run `db up` in another clone
 * has it, a first-ever `db up` on a machine has not (that one runs initdb: the floor).
 */
async function freshCloneUp(log: (line: string) => void): Promise<number> {
  const clone = tempDir("clone");
  copyProject(clone);
  rmSync(join(clone, "node_modules"), { recursive: true, force: true });
  await mustRun("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: clone,
    env: { ...process.env, HUSKY: "0" },
  });
  log(`fresh clone: npm ci done in ${clone}`);
  const [pgPort, redisPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(clone, ".env"),
    `DATABASE_URL=postgres://kata:${PASSWORD}@127.0.0.1:${pgPort}/kata\nREDIS_URL=redis://127.0.0.1:${redisPort}\n`,
  );
  const cloneDb = join(clone, "scripts", "bin", "db");
  const env = cliEnv({ KATA_DB_ROOT: clone });
  const down = onCleanup(`db down in ${clone}`, () => run(cloneDb, ["down", "--volumes"], { env }));
  try {
    return (await mustRun(cloneDb, ["up", "--backend", "embedded"], { env, cwd: clone })).ms;
  } finally {
    await down();
    await removeTempDir(clone);
  }
}

/**
 * Wait until no spare is being made in the background (the last `db up` starts one), then, with
 * `drop`, remove the spares, so that the next `db up` copies the entry.
 */
async function settleSpares(drop: boolean): Promise<void> {
  const cache = clusterCacheDir();
  if (!cache || !existsSync(cache)) return;
  const deadline = Date.now() + 60_000;
  while (readdirSync(cache).some((name) => name.includes(".spare.partial-"))) {
    if (Date.now() > deadline) throw new Error(`a spare cluster is still being made in ${cache}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!drop) return;
  for (const name of readdirSync(cache)) {
    if (name.endsWith(".spare")) rmSync(join(cache, name), { recursive: true, force: true });
  }
}

/**
 * What making a file costs where the rounds run (a cluster is ~1000 files, which initdb and the
 * copy from the cache both make): on this machine's disk it has been seen at 0.03 ms in one
 * directory and 1.1 ms in another of the same file system, and at 1.1 ms both initdb and the copy
 * take about a second of it. Milliseconds per file, of 1000 empty files in a new directory.
 */
function fileCost(): number {
  const root = tempDir("files");
  const started = performance.now();
  for (let i = 0; i < FILES; i++) writeFileSync(join(root, String(i)), "");
  const perFile = (performance.now() - started) / FILES;
  rmSync(root, { recursive: true, force: true });
  return perFile;
}
const FILES = 1000;

interface FloorTimes {
  total: number;
  initdb: number;
  start: number;
  apply: number;
}

/**
 * The floor. initdb gets initCluster's own arguments (initdbArgs) and pg_ctl the flags of
 * startCluster (src/postgres-cluster.ts) — a fair ratio needs the same initdb on both sides — and run
 * as the same user. The empty data directory and the password file are made before the clock
 * starts: they are not work anyone waits for.
 */
async function floor(bin: PostgresBinaries, usePsql: boolean): Promise<FloorTimes> {
  const root = tempDir("floor");
  const dataDir = join(root, "data");
  makeServerDir(dataDir);
  const user = serverUser();
  const pwfile = join(root, "pwfile");
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  const port = await freePort();
  const asServer = {
    cwd: root,
    env: { ...process.env, LC_ALL: "C" },
    uid: user?.uid,
    gid: user?.gid,
  };

  const t0 = performance.now();
  await mustRun(bin.initdb, initdbArgs(dataDir, "kata", pwfile), asServer);
  const t1 = performance.now();
  const stop = onCleanup(`floor server in ${dataDir}`, () =>
    run(bin.pgCtl, ["stop", "--pgdata", dataDir, "--mode", "immediate", "--silent"], asServer),
  );
  await mustRun(
    bin.pgCtl,
    [
      "start",
      "--pgdata",
      dataDir,
      "--log",
      join(dataDir, "server.log"),
      "--wait",
      "--timeout=60",
      "--silent",
      "-o",
      `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=''`,
    ],
    asServer,
  );
  const t2 = performance.now();
  await applySql(port, usePsql);
  const t3 = performance.now();
  await stop();
  await removeTempDir(root);
  return { total: t3 - t0, initdb: t1 - t0, start: t2 - t1, apply: t3 - t2 };
}

/** CREATE DATABASE kata, then the migration files in one psql session and one transaction. */
async function applySql(port: number, usePsql: boolean): Promise<void> {
  const url = (db: string) => `postgres://kata:${PASSWORD}@127.0.0.1:${port}/${db}`;
  if (usePsql) {
    const env = { ...process.env, PGPASSWORD: PASSWORD };
    const base = [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "kata",
    ];
    await mustRun("psql", [...base, "-d", "postgres", "-c", "CREATE DATABASE kata"], { env });
    await mustRun("psql", [...base, "-d", "kata", "-1", ...SQL_FILES.flatMap((f) => ["-f", f])], {
      env,
    });
    return;
  }
  // No psql: postgres.js, one simple-protocol query per file (in-process, so a lower floor).
  const { default: postgres } = await import("postgres");
  const admin = postgres(url("postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe("CREATE DATABASE kata").finally(() => admin.end());
  const sql = postgres(url("kata"), { max: 1, onnotice: () => {} });
  try {
    for (const file of SQL_FILES) await sql.unsafe(readFileSync(file, "utf8")).simple();
  } finally {
    await sql.end();
  }
}

/**
 * PGlite in its own node process, as an app or a test run would use it: import, a new
 * in-memory instance (its initdb runs in WebAssembly), the same SQL files.
 */
const PGLITE_CHILD = `
const started = performance.now();
const { PGlite } = await import("@electric-sql/pglite");
const { readFileSync } = await import("node:fs");
const db = await PGlite.create();
const created = performance.now();
for (const file of process.argv.slice(1)) await db.exec(readFileSync(file, "utf8"));
const migrated = performance.now();
await db.close();
console.log(JSON.stringify({ create: created - started, migrate: migrated - created }));
`;

async function pglite(): Promise<{ total: number; create: number; migrate: number }> {
  const proc = await mustRun(process.execPath, [
    "--input-type=module",
    "-e",
    PGLITE_CHILD,
    "--",
    ...SQL_FILES,
  ]);
  return { total: proc.ms, ...JSON.parse(proc.stdout) };
}

export const coldUp: Measurement = {
  id: "cold-up",
  title: "`db up` from nothing",
  async measure({ log }) {
    const bin = await embeddedBinaries();
    const usePsql = which("psql") !== undefined;
    const up: number[] = [];
    const copied: number[] = [];
    const floors: FloorTimes[] = [];
    const pgl: { total: number; create: number; migrate: number }[] = [];
    const files: number[] = [];
    // Round 0 warms the page cache and the binaries' copy; it is not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      await settleSpares(true);
      const c = await dbUp();
      await settleSpares(false);
      const [u, f, p] = [await dbUp(), await floor(bin, usePsql), await pglite()];
      files.push(fileCost());
      log(
        `round ${round}${round ? "" : " (warm-up)"}: db up ${ms(u)} (${ms(c)} without a spare), floor ${ms(f.total)}, PGlite ${ms(p.total)}`,
      );
      if (round === 0) continue;
      up.push(u);
      copied.push(c);
      floors.push(f);
      pgl.push(p);
    }
    // Once, after the rounds (an npm ci is ~15 s): with a spare ready, as after any `db up`.
    await settleSpares(false);
    const fresh = await freshCloneUp(log);
    log(`fresh clone: first db up ${ms(fresh)}`);
    const upMs = median(up);
    const floorMs = median(floors.map((f) => f.total));
    const pgliteMs = median(pgl.map((p) => p.total));
    // Paired: the median of each round's own ratio, so that a slow stretch of the shared machine
    // that hits one round's contenders alike cancels out.
    const vsFloor = median(up.map((u, i) => u / (floors[i]?.total ?? Number.NaN)));
    const vsPglite = median(up.map((u, i) => u / (pgl[i]?.total ?? Number.NaN)));
    const copiedVsFloor = median(copied.map((c, i) => c / (floors[i]?.total ?? Number.NaN)));
    const how = usePsql ? "psql" : "postgres.js (no psql on PATH)";
    return {
      rows: [
        {
          measurement: "`db up` from nothing (embedded, Redis too)",
          value: ms(upMs),
          baseline: `floor: ${ms(floorMs)} (initdb + pg_ctl start + ${how})`,
          ratio: ratio(vsFloor, 1),
          budget: "≤ 0.5× floor",
          pass: vsFloor <= 0.5,
        },
        {
          measurement: "`db up` from nothing: the first in a fresh clone (after `npm ci`)",
          value: ms(fresh),
          baseline: `floor: ${ms(floorMs)}`,
          ratio: ratio(fresh / floorMs, 1),
          budget: "≤ 0.5× floor",
          pass: fresh / floorMs <= 0.5,
        },
        {
          measurement: "`db up` from nothing, no spare: the entry copied",
          value: ms(median(copied)),
          baseline: `floor: ${ms(floorMs)}`,
          ratio: ratio(copiedVsFloor, 1),
          budget: "— (information)",
        },
        {
          measurement: "`db up` from nothing vs PGlite",
          value: ms(upMs),
          baseline: `PGlite: ${ms(pgliteMs)} (new instance + same SQL)`,
          ratio: ratio(vsPglite, 1),
          budget: "< 1× PGlite",
          pass: vsPglite < 1,
        },
      ],
      sections: [
        `### \`db up\` from nothing

Median of ${ROUNDS} rounds after one warm-up round; in each round \`db up\`, the floor and PGlite
run one after the other. \`db up\` takes its cluster from the per-user cache of initialised
clusters (src/cluster-cache.ts), one with the database already made in it, which the warm-up
round fills: it renames into place the spare copy that the previous \`db up\` left made in the
background (the round waits until it is made), and makes no files. Each round first runs a
\`db up\` with the spares removed, which copies the entry (the "no spare" row); the floor runs initdb. \`db up --backend embedded\` runs in a new project directory
(KATA_DB_ROOT, beside the checkout: bench/lib.ts) whose .env names free ports; it also starts
Redis (redis-server is installed) and applies the migrations. The floor runs the same binaries with initCluster's and
startCluster's flags, then ${how} creates the database and applies the ${SQL_FILES.length} SQL
files in one transaction. PGlite: a node process importing @electric-sql/pglite, creating an
in-memory instance and executing the same files.

The fresh clone (n=1, after the rounds): this checkout's files copied, \`npm ci\` in the copy
(not timed), then the copy's own \`scripts/bin/db up\`: a new node_modules (new paths, new file
times) and no CLI bundle built before it. It shares the per-user cluster cache with the rounds,
as a teammate's second clone does; the first \`db up\` ever on a machine runs initdb, which is
the floor.

Making a file in that directory cost ${median(files).toFixed(3)} ms (median of ${files.length} rounds of
${FILES} empty files; ${Math.min(...files).toFixed(3)}–${Math.max(...files).toFixed(3)} ms). A cluster is ~1000
files, made by initdb and by the copy alike: where a file costs ~1 ms, both take a second for it
and their ratio tends to 1 whatever either does besides. (On ext4 without a journal, as here, a
new file steps over every inode deleted in the last minutes, and each round deletes clusters.)

${table(
  ["contender", "median (n, min–max)", "parts (medians)"],
  [
    ["`db up`", spread(up), "see the warm rows for the CLI's own start-up"],
    ["`db up`, no spare", spread(copied), "the entry copied"],
    [
      "floor",
      spread(floors.map((f) => f.total)),
      `initdb ${ms(median(floors.map((f) => f.initdb)))}, start ${ms(median(floors.map((f) => f.start)))}, create + apply ${ms(median(floors.map((f) => f.apply)))}`,
    ],
    [
      "PGlite",
      spread(pgl.map((p) => p.total)),
      `import + create ${ms(median(pgl.map((p) => p.create)))}, apply ${ms(median(pgl.map((p) => p.migrate)))}`,
    ],
  ],
)}`,
      ],
    };
  },
};
