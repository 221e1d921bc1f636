// What the native and embedded backends share: a PostgreSQL cluster under .data/postgres driven
// by initdb/pg_ctl (src/postgres-cluster.ts) and a redis-server under .data/redis, both
// real background servers that outlive the CLI. They differ only in where the binaries come from.

import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { platform } from "node:os";
import { join, relative } from "node:path";
import {
  dataDirMajor,
  embeddedBinaries,
  initCluster,
  initPreparedCluster,
  POSTGRES_MAJOR,
  type PostgresBinaries,
  serverLog,
  serverUser,
  startCluster,
  stopCluster,
} from "../../src/postgres-cluster.ts";
import type { Config } from "../basics/env.ts";
import { createDatabase, ensureDatabase, probePostgres } from "../basics/pg.ts";
import { pingRedis, type RedisHealth } from "../basics/redis.ts";
import {
  interactive,
  listenAddress,
  livePid,
  portInUse,
  processExists,
  retry,
  sh,
  which,
} from "../basics/system.ts";
import { clusterName, describeOwner, ownedBy, parseClusterName } from "../checkout/identity.ts";
import { CliError, info, type Step, task, warn } from "../cli/task.ts";
import type { Backend } from "./backend.ts";

export const REDIS_MISSING =
  "redis-server is not on PATH: install Redis 7 (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), enter the Nix shell (nix develop), or use --backend docker";

export const postgresDir = (config: Config) => join(config.dataDir, "postgres");
const redisDir = (config: Config) => join(config.dataDir, "redis");
const redisPidFile = (config: Config) => join(redisDir(config), "redis.pid");
const show = (config: Config, path: string) => relative(config.root, path) || ".";

/** The running postmaster of a data directory: postmaster.pid holds its pid (line 1) and port (line 4). */
export function runningPostgres(dir: string): { pid: number; port: number } | undefined {
  const file = join(dir, "postmaster.pid");
  const pid = livePid(file);
  if (!pid) return undefined;
  return { pid, port: Number(readFileSync(file, "utf8").split("\n")[3]) };
}

/**
 * A Ctrl-C'd `db up` may leave an initdb half done. initdb therefore works in
 * `postgres.init-<pid>` and the result is renamed into place; what a dead process left behind
 * (that directory, initCluster's password file) is removed here.
 */
function removeLeftovers(config: Config): void {
  for (const entry of readdirSync(config.dataDir)) {
    const pid = /^(?:postgres\.init-|\.pwfile-)(\d+)$/.exec(entry)?.[1];
    if (pid && !processExists(Number(pid))) {
      rmSync(join(config.dataDir, entry), { recursive: true, force: true });
    }
  }
}

/**
 * As root the server runs as the `postgres` user, which must reach .data/ (its cluster and
 * initCluster's password file are in there) through every parent directory. A checkout under a
 * closed directory (a 0700 \`mktemp -d\`) would otherwise fail deep inside initdb or pg_ctl.
 */
function requireReachable(config: Config): void {
  const user = serverUser();
  if (!user) return;
  // Whatever the umask made of it; the cluster directory itself stays 0700.
  chmodSync(config.dataDir, 0o755);
  const probe = spawnSync("test", ["-x", config.dataDir], { uid: user.uid, gid: user.gid });
  if (probe.status !== 0) {
    throw new CliError(
      `running as root, PostgreSQL runs as '${user.name}', which cannot reach ${config.dataDir} (a parent directory is closed to it): open the parents (chmod o+x), or point KATA_DB_ROOT at a reachable directory`,
    );
  }
}

/**
 * A new cluster under .data/postgres with the URL's database already in it: CREATE DATABASE is a
 * quarter of a `db up` from nothing (≈0.25 s: template1 copied through the WAL), so the cluster
 * cache (src/cluster-cache.ts) keeps one with the database made, for the same binaries, user,
 * password and database name. The first time, that database is made on a port of its own,
 * before anything listens on the URL's. Migrations are not cached: `db up` applies them next.
 * It also keeps a spare copy, made in the background, that the next `db up` from nothing takes
 * by a rename instead of a copy (cluster-cache.ts says when that matters).
 */
async function initPostgres(config: Config, bin: PostgresBinaries): Promise<void> {
  const { user, password, database } = config.postgres;
  if (!password) {
    throw new CliError(
      "DATABASE_URL has no password: the local server creates its user with it (e.g. postgres://kata:kata@127.0.0.1:54329/kata)",
    );
  }
  const dir = postgresDir(config);
  const temp = `${dir}.init-${process.pid}`;
  // The URL's user becomes the cluster's superuser, so it can create its database.
  const cluster = { bin, dataDir: temp, superuser: user, password };
  try {
    if (database === "postgres") {
      await initCluster(cluster);
    } else {
      await initPreparedCluster(cluster, {
        key: `database ${JSON.stringify(database)}`,
        prepare: (port) => createDatabaseAlone(config, port),
        spare: true,
      });
    }
    renameSync(temp, dir);
  } catch (error) {
    // A concurrent `db up` finished first: use its cluster.
    if (
      !(
        dataDirMajor(dir) &&
        ["ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")
      )
    ) {
      throw error;
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** CREATE DATABASE in a new cluster that nobody else knows of yet, running on `port`. */
async function createDatabaseAlone(config: Config, port: number) {
  const url = new URL(config.postgres.url);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  await createDatabase({ ...config.postgres, host: "127.0.0.1", port, url: url.toString() });
}

async function upPostgres(
  config: Config,
  findBinaries: () => Promise<PostgresBinaries>,
  step: Step,
) {
  const target = config.postgres;
  const dir = postgresDir(config);
  const running = runningPostgres(dir);
  if (running && running.port !== target.port) {
    throw new CliError(
      `PostgreSQL of ${show(config, dir)} runs on port ${running.port} but DATABASE_URL says ${target.port}: run \`db down\`, then \`db up\``,
    );
  }
  if (!running) {
    const major = dataDirMajor(dir);
    if (major !== undefined && major !== POSTGRES_MAJOR) {
      throw new CliError(
        `${show(config, dir)} holds a PostgreSQL ${major} cluster but this project runs ${POSTGRES_MAJOR}: move it away (mv ${show(config, dir)} ${show(config, dir)}-${major}) or delete it with \`db down --volumes\``,
      );
    }
    if (major === undefined && existsSync(dir) && readdirSync(dir).length > 0) {
      throw new CliError(
        `${show(config, dir)} is not a PostgreSQL data directory: move it away, then \`db up\` again`,
      );
    }
    const address = listenAddress(target.host);
    if (await portInUse(target.port, address)) {
      // Whose is it? Our servers say in cluster_name; a stranger may not let us ask.
      // Briefly: a PostgreSQL answers at once, and a program that does not is "another program".
      const other = await probePostgres(target.url, { maxSeconds: 2 });
      const who = describeOwner(other.clusterName, config.root);
      const whose = !other.healthy
        ? "another program"
        : parseClusterName(other.clusterName)
          ? `${who}'s PostgreSQL`
          : who;
      throw new CliError(
        `port ${target.port} of DATABASE_URL is in use by ${whose}: stop it, or give this checkout a free port in DATABASE_URL (.env)`,
      );
    }
    const bin = await findBinaries();
    mkdirSync(config.dataDir, { recursive: true });
    requireReachable(config);
    removeLeftovers(config);
    if (major === undefined) await initPostgres(config, bin);
    await startCluster({
      bin,
      dataDir: dir,
      port: target.port,
      // Who started it: other checkouts and commands tell this checkout's server by it.
      settings: {
        listen_addresses: address,
        cluster_name: clusterName(config.root),
        // Branch copies (scripts/branches/branch-copies.ts) by copy_file_range: a reflink where the
        // filesystem has them. Linux only: macOS's clone fails outright off APFS.
        ...(platform() === "linux" ? { file_copy_method: "clone" } : {}),
      },
    });
  }
  const health = await ensureDatabase(target);
  if (
    health.healthy &&
    parseClusterName(health.clusterName) &&
    !ownedBy(health.clusterName, config.root)
  ) {
    throw new CliError(
      `PostgreSQL at ${target.host}:${target.port} is ${describeOwner(health.clusterName, config.root)}'s, not this checkout's: give this checkout its own port in DATABASE_URL (.env)`,
    );
  }
  if (!health.healthy) {
    throw new CliError(
      health.code === "28P01" || health.code === "28000"
        ? `PostgreSQL refused the user or password of DATABASE_URL: ${show(config, dir)} was created with other credentials — put them back in DATABASE_URL, or start afresh with \`db down --volumes\` (deletes local data)`
        : `PostgreSQL at ${target.host}:${target.port} is not usable: ${health.reason}`,
    );
  }
  step.done(
    `PostgreSQL ${health.version} ${running ? "already running" : "started"} at ${target.host}:${target.port}`,
  );
}

async function upRedis(config: Config): Promise<RedisHealth> {
  const target = config.redis;
  const unavailable = (reason: string): RedisHealth => {
    warn(`Redis unavailable: ${reason}`);
    return { healthy: false, reason };
  };
  if (!target) return unavailable("REDIS_URL is not set: add it to .env (see .env.example)");
  const dir = redisDir(config);
  const pidFile = redisPidFile(config);
  const running = livePid(pidFile) !== undefined;
  const server = running ? undefined : which("redis-server");
  if (!running && !server) return unavailable(REDIS_MISSING);
  return task(`Redis at ${target.host}:${target.port}`, async (step) => {
    if (server) {
      const address = listenAddress(target.host);
      if (await portInUse(target.port, address)) {
        throw new CliError(
          `port ${target.port} of REDIS_URL is in use by another program: stop it, or choose a free port in REDIS_URL (.env)`,
        );
      }
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // A config file rather than arguments: a password must not show in `ps`.
      const conf = join(dir, "redis.conf");
      writeFileSync(
        conf,
        [
          "daemonize yes",
          `bind ${address}`,
          `port ${target.port}`,
          `dir ${dir}`,
          `pidfile ${pidFile}`,
          `logfile ${join(dir, "redis.log")}`,
          // The append-only file keeps data across `db down` / `db up`, like PostgreSQL's.
          "appendonly yes",
          ...(target.password ? [`requirepass "${target.password.replaceAll('"', '\\"')}"`] : []),
          "",
        ].join("\n"),
        { mode: 0o600 },
      );
      await sh`${server} ${conf}`;
    }
    // --daemonize returns once forked, before the server listens: wait for PONG, not for time.
    const health = await retry(30, 500, async () => {
      const result = await pingRedis(target);
      if (!result.healthy) throw new Error(result.reason);
      return result;
    });
    step.done(`Redis ${server ? "started" : "already running"} at ${target.host}:${target.port}`);
    return health;
  });
}

async function stopRedis(config: Config): Promise<boolean> {
  const pid = livePid(redisPidFile(config));
  if (!pid) return false;
  // SIGTERM is Redis's own graceful SHUTDOWN (it flushes the append-only file first), and needs
  // neither redis-cli nor the password.
  process.kill(pid, "SIGTERM");
  await retry(100, 200, () => {
    if (processExists(pid)) throw new Error(`Redis (pid ${pid}) did not stop`);
  });
  return true;
}

export function localBackend(
  name: "native" | "embedded",
  findBinaries: () => Promise<PostgresBinaries>,
): Backend {
  return {
    name,

    async up(config) {
      const { host, port } = config.postgres;
      const dir = postgresDir(config);
      const wasRunning = Boolean(runningPostgres(dir));
      await task(`PostgreSQL at ${host}:${port}`, (step) => upPostgres(config, findBinaries, step));
      try {
        return { redis: await upRedis(config) };
      } catch (error) {
        // A failed `db up` leaves nothing half-started: no backend is recorded yet, so `db down`
        // would not know of a PostgreSQL this run started (seen: Redis's port taken).
        if (!wasRunning && runningPostgres(dir)) {
          const bin = await findBinaries().catch(() => embeddedBinaries());
          await stopCluster({ bin, dataDir: dir, mode: "fast" }).catch(() => undefined);
          info("stopped PostgreSQL again: this `db up` started it and could not finish");
        }
        throw error;
      }
    },

    async down(config, { volumes }) {
      const dir = postgresDir(config);
      await task("Stopping PostgreSQL", async (step) => {
        if (!runningPostgres(dir)) return step.done("PostgreSQL was not running");
        // pg_ctl of the same major is all stopping needs: the native binaries may be gone (left
        // the Nix shell), the embedded ones are always installed.
        const bin = await findBinaries().catch(() => embeddedBinaries());
        await stopCluster({ bin, dataDir: dir, mode: "fast" });
        step.done("PostgreSQL stopped");
      });
      await task("Stopping Redis", async (step) => {
        step.done((await stopRedis(config)) ? "Redis stopped" : "Redis was not running");
      });
      if (volumes) {
        // Only what is there is named: without redis-server there never was a .data/redis.
        const there = [dir, redisDir(config)].filter((path) => existsSync(path));
        if (there.length === 0) return info("no data to delete");
        const what = there.map((path) => show(config, path)).join(" and ");
        await task(`Deleting ${what}`, async (step) => {
          for (const path of there) rmSync(path, { recursive: true, force: true });
          step.done(`Deleted ${what}`);
        });
      }
    },

    async running(config) {
      return Boolean(runningPostgres(postgresDir(config)) || livePid(redisPidFile(config)));
    },

    async logs(config, { service, follow }) {
      const files = [
        service !== "redis" && serverLog(postgresDir(config)),
        service !== "postgres" && join(redisDir(config), "redis.log"),
      ].filter((file): file is string => Boolean(file) && existsSync(file as string));
      if (files.length === 0) throw new CliError("no logs yet: run `db up` first");
      return interactive("tail", ["-n", "100", ...(follow ? ["-F"] : []), ...files]);
    },
  };
}
