// Throwaway and first-time clusters copied from one already initialised, instead of running
// initdb each time (≈0.5–1.2 s here; a copy is ≈0.05 s). A cluster that was never started is
// fully determined by what initdb was given and what it found: the binaries (version, path,
// build), its arguments, the superuser and its password (the SCRAM verifier is written at
// initdb), the user the server runs as (who owns the files), and the time zone it probed. The
// cache is keyed by a hash of all of these — the password only as part of that hash — and kept
// per user in $XDG_CACHE_HOME/kata-db/clusters (else ~/.cache/kata-db/clusters), 0700.
// On a miss the cluster is made by initdb where it is needed, then copied into the cache under a
// temporary name and renamed into place: two processes building at once both succeed, one copy
// is kept. Anything the cache cannot do (no home, a read-only cache, KATA_DB_CLUSTER_CACHE=0)
// falls back to initdb alone. Entries are pruned when a new one is stored: the 12 most recently
// used are kept, none unused for 30 days.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Bumped when what a cached cluster means changes. */
const FORMAT = "kata-db cluster 1";

export interface ClusterRecipe {
  /** The initdb binary (its real path, size and time identify the build) and its version line. */
  initdb: string;
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

export function recipeKey(recipe: ClusterRecipe): string {
  const binary = statSync(recipe.initdb);
  return createHash("sha256")
    .update(
      [
        FORMAT,
        realpathSync(recipe.initdb),
        `${binary.size}:${binary.mtimeMs}`,
        recipe.version,
        ...recipe.args,
        recipe.superuser,
        createHash("sha256").update(recipe.password).digest("hex"),
        String(recipe.owner),
        timeZone(),
      ].join("\n"),
    )
    .digest("hex")
    .slice(0, 32);
}

/**
 * Fill the empty `dataDir` with the cached cluster of `recipe`, or with `init` (initdb) and
 * then cache what it made. `cp -a` keeps owners and modes: as root the files stay the server
 * user's, and PostgreSQL's 0700/0600 stay as initdb set them.
 */
export async function initFromCache(
  recipe: ClusterRecipe,
  dataDir: string,
  init: () => Promise<void>,
): Promise<"copied" | "initialised"> {
  const dir = clusterCacheDir();
  let cached: string | undefined;
  try {
    cached = dir && join(dir, recipeKey(recipe));
  } catch {
    cached = undefined;
  }
  if (cached && existsSync(join(cached, "PG_VERSION"))) {
    try {
      markUsed(cached);
      await run("cp", ["-a", `${cached}/.`, dataDir]);
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
  }
  return "initialised";
}

/** Entries kept: the most recently used, none unused for longer than MAX_AGE. */
const KEEP = 12;
const MAX_AGE_MS = 30 * 24 * 3600 * 1000; // 30 days
/** Never removed however many there are: another process may be copying it right now. */
const IN_USE_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;
const ENTRY = /^[0-9a-f]{32}(?:\.partial-.+)?$/;

/** An entry's time is its last use: set when it is copied from, read by prune(). */
function markUsed(entry: string): void {
  try {
    const now = new Date();
    utimesSync(entry, now, now);
  } catch {}
}

/**
 * Each key is another entry (≈40 MB): other binaries (each checkout's node_modules has its own),
 * another password, a `db up` database. Once a new one is stored, those beyond the KEEP most
 * recently used, and those unused for 30 days, are removed; a half-made one of a process that
 * died goes after a day. A copy that loses its entry meanwhile fails and runs initdb instead.
 */
function prune(dir: string, keep: string): void {
  try {
    const now = Date.now();
    const entries = readdirSync(dir)
      .filter((name) => ENTRY.test(name))
      .map((name) => ({ path: join(dir, name), used: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.used - a.used);
    let kept = 0;
    for (const { path, used } of entries) {
      const age = now - used;
      const partial = path.includes(".partial-");
      if (path === keep || age < IN_USE_MS) {
        if (!partial) kept++;
      } else if (partial) {
        if (age > DAY_MS) rmSync(path, { recursive: true, force: true });
      } else if (kept < KEEP && age <= MAX_AGE_MS) {
        kept++;
      } else {
        rmSync(path, { recursive: true, force: true });
      }
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
