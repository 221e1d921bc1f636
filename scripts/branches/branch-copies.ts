// The local database follows the checkout. Each branch may carry migrations the others do not
// have; one database cannot hold two histories, so when this checkout's migrations and the local
// database's diverge, the database is kept aside as a saved copy and the best copy that fits this
// checkout takes its place. Copies are PostgreSQL databases on the same local server, named
// `<database>__kata_<id>`, described by a JSON comment (`COMMENT ON DATABASE`): which branch,
// which migrations applied. Renaming a database is instant; a copy is `CREATE DATABASE … TEMPLATE
// … STRATEGY FILE_COPY` (bench/results.md has how long that takes, by size).
//
// - Before `db up` applies migrations, it saves the database as it is ("before" copy): the state
//   an uncommitted migration can be undone to, and main's data while a branch's migration is on.
// - A database that does not fit (it has migrations this checkout does not know, or an
//   uncommitted migration was edited since it was applied) is renamed to a copy of its branch,
//   never dropped; the fitting copy with the most migrations (this branch's first) is renamed
//   into place, and `db up` migrates it forward.
// - An uncommitted migration edited only in its comments (a `-- squawk-ignore` added) keeps the
//   database: its record takes the new hash. The SQL of every migration applied locally is kept
//   in .data/applied-sql/<hash>.sql to tell.
// - Committed migrations stay immutable (a changed one is refused), and nothing here runs on a
//   non-local DATABASE_URL.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { sha256 } from "../../src/hash.ts";
import { MIGRATIONS_FOLDER, readMigrations } from "../../src/migrations.ts";
import { type AppliedRecord, compareMigrations } from "../../src/migrator.ts";
import { type Config, isLocalHost, PACKAGE_ROOT } from "../basics/env.ts";
import { findRepo, git, resolveCommit, treeFiles } from "../basics/git.ts";
import { connect, maintenanceUrl } from "../basics/pg.ts";
import { CliError, info, warn } from "../cli/task.ts";
import { describeUnknown } from "./migration-origin.ts";

const MARK = "kata-db";
/**
 * "before" copies kept per database. One per point in the history (the same migrations applied)
 * is enough: an older copy of the same point is removed, and beyond this many points the oldest,
 * each said so.
 */
const KEEP_BEFORE = 10;

export interface CopyInfo {
  name: string;
  kind: "branch" | "before";
  branch: string;
  records: AppliedRecord[];
  saved: string;
}

interface Comment {
  [MARK]: "copy" | "live";
  of?: string;
  kind?: CopyInfo["kind"];
  branch?: string;
  records?: AppliedRecord[];
  saved?: string;
}

/** The branch checked out here ("main", "feat/x"; a detached HEAD's short commit), or undefined without git. */
export async function currentBranch(): Promise<string | undefined> {
  const repo = await findRepo(PACKAGE_ROOT);
  if (!repo) return undefined;
  try {
    const name = (await git(repo, ["rev-parse", "--abbrev-ref", "HEAD"])).toString().trim();
    if (name !== "HEAD") return name;
    return (await git(repo, ["rev-parse", "--short", "HEAD"])).toString().trim();
  } catch {
    return undefined;
  }
}

/** Tags of migrations committed in HEAD (immutable), or undefined without git. */
export async function committedTags(): Promise<Set<string> | undefined> {
  const repo = await findRepo(PACKAGE_ROOT);
  if (!repo) return undefined;
  const head = await resolveCommit(repo, "HEAD");
  if (!head) return new Set();
  const files = await treeFiles(repo, head, "drizzle");
  return new Set(
    [...files.keys()]
      .map((path) => /^drizzle\/([^/]+)\.sql$/.exec(path)?.[1])
      .filter((tag): tag is string => tag !== undefined),
  );
}

const appliedSqlDir = (config: Config) => join(config.dataDir, "applied-sql");

/** The data is gone (`db down --volumes`): what was kept of the migrations it had applied goes too. */
export function forgetAppliedSql(config: Config): void {
  rmSync(appliedSqlDir(config), { recursive: true, force: true });
}

/** Keep the text of every migration of this folder by hash: what an edited one was when applied. */
export function rememberAppliedSql(config: Config): void {
  const dir = appliedSqlDir(config);
  mkdirSync(dir, { recursive: true });
  for (const migration of readMigrations(MIGRATIONS_FOLDER)) {
    const file = join(dir, `${migration.hash}.sql`);
    if (!existsSync(file)) writeFileSync(file, migration.text);
  }
}

/** The SQL without comments and with white space collapsed: equal means the same statements. */
const statementsOnly = (text: string) =>
  text
    .replace(/--(?!> statement-breakpoint).*$/gm, "")
    .replace(/\s+/g, " ")
    .trim();

const withDatabase = (config: Config, database: string) => {
  const url = new URL(config.postgres.url);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
};

async function readRecords(config: Config, database: string): Promise<AppliedRecord[]> {
  const sql = connect(withDatabase(config, database));
  try {
    const [exists] = await sql<{ exists: boolean }[]>`
      SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists`;
    if (!exists?.exists) return [];
    const rows = await sql<{ hash: string; created_at: string }[]>`
      SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY created_at, id`;
    return rows.map((row) => ({ hash: row.hash, createdAt: row.created_at }));
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const parseComment = (text: string | null): Comment | undefined => {
  try {
    const value = text ? (JSON.parse(text) as Comment) : undefined;
    return value && typeof value === "object" && MARK in value ? value : undefined;
  } catch {
    return undefined;
  }
};

async function setComment(admin: postgres.Sql, database: string, comment: Comment) {
  const text = JSON.stringify(comment).replaceAll("'", "''");
  await admin.unsafe(`COMMENT ON DATABASE "${database.replaceAll('"', '""')}" IS '${text}'`);
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Every saved copy of the database, newest first. */
export async function listCopies(admin: postgres.Sql, live: string): Promise<CopyInfo[]> {
  const rows = await admin<{ datname: string; comment: string | null }[]>`
    SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database`;
  const copies: CopyInfo[] = [];
  for (const row of rows) {
    const comment = parseComment(row.comment);
    if (comment?.[MARK] !== "copy" || comment.of !== live) continue;
    copies.push({
      name: row.datname,
      kind: comment.kind ?? "branch",
      branch: comment.branch ?? "?",
      records: comment.records ?? [],
      saved: comment.saved ?? "",
    });
  }
  return copies.sort((a, b) => b.saved.localeCompare(a.saved));
}

/** A saved copy as `db status` shows it: whose, at which migration, when, and how big. */
export interface SavedCopy {
  name: string;
  kind: CopyInfo["kind"];
  branch: string;
  /** The last migration applied in it: its tag, and where git has it when this checkout has not. */
  at: string;
  saved: string;
  bytes: number;
}

/** The saved copies of this checkout's local database, newest first (none for a remote one). */
export async function savedCopies(config: Config): Promise<SavedCopy[]> {
  if (!isLocalHost(config.postgres.host)) return [];
  const admin = connect(maintenanceUrl(config.postgres));
  try {
    const copies = await listCopies(admin, config.postgres.database);
    if (copies.length === 0) return [];
    const sizes = await admin<{ datname: string; bytes: string }[]>`
      SELECT datname, pg_database_size(oid)::text AS bytes FROM pg_database
      WHERE datname IN ${admin(copies.map((c) => c.name))}`;
    const bytes = new Map(sizes.map((row) => [row.datname, Number(row.bytes)]));
    const tags = await migrationNames(copies.map((c) => c.records));
    return copies.map((c) => ({
      name: c.name,
      kind: c.kind,
      branch: c.branch,
      at: lastTag(c.records, tags),
      saved: c.saved,
      bytes: bytes.get(c.name) ?? 0,
    }));
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/** Disconnect the other sessions of a database: renaming or copying it needs it to itself. */
async function disconnect(admin: postgres.Sql, database: string): Promise<number> {
  const rows = await admin`
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = ${database} AND pid <> pg_backend_pid()`;
  return rows.length;
}

const copyName = (live: string) => `${live.slice(0, 40)}__kata_${randomBytes(4).toString("hex")}`;

/**
 * The names of the last migrations of these histories, by created_at: this checkout's tags, and
 * for a migration only another branch or worktree has, where git has it ("0003_add_x, on branch
 * feat/x"). A record is never shown by its created_at alone while git can name it.
 */
async function migrationNames(histories: AppliedRecord[][]): Promise<Map<string, string>> {
  const tags = new Map(readMigrations(MIGRATIONS_FOLDER).map((m) => [String(m.when), m.tag]));
  const foreign = histories
    .map((records) => records.at(-1))
    .filter((r): r is AppliedRecord => r !== undefined && !tags.has(r.createdAt));
  const unique = [...new Map(foreign.map((r) => [r.createdAt, r])).values()];
  const named = await describeUnknown(unique);
  for (const [i, record] of unique.entries()) tags.set(record.createdAt, named[i] as string);
  return tags;
}

const lastTag = (records: AppliedRecord[], tags: Map<string, string>) => {
  const last = records.at(-1);
  return last ? (tags.get(last.createdAt) ?? `created_at ${last.createdAt}`) : "no migrations";
};

export interface Fit {
  /** Why the database does not fit this checkout; undefined when it fits (migrate goes ahead). */
  misfit?: string;
  /** Uncommitted migrations edited only in comments: their records take the new hash. */
  rehash: { createdAt: string; from: string; to: string; tag: string }[];
  /** A committed migration changed: refused everywhere, nothing to follow. */
  immutable?: string;
}

/** Does a database's history fit this checkout's migrations (pending ones aside)? */
function fitOf(config: Config, records: AppliedRecord[], committed: Set<string> | undefined): Fit {
  const local = readMigrations(MIGRATIONS_FOLDER);
  const status = compareMigrations(
    local,
    records.map((r) => ({ hash: r.hash, created_at: r.createdAt })),
  );
  const result: Fit = { rehash: [] };
  const edited: string[] = [];
  for (const tag of status.modified) {
    const migration = local.find((m) => m.tag === tag);
    const record = records.find((r) => r.createdAt === String(migration?.when));
    if (!migration || !record) continue;
    if (!committed || committed.has(tag)) {
      result.immutable = tag;
      continue;
    }
    const file = join(appliedSqlDir(config), `${record.hash}.sql`);
    const before = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    if (before !== undefined && sha256(before) === record.hash) {
      if (statementsOnly(before) === statementsOnly(migration.text)) {
        result.rehash.push({
          createdAt: record.createdAt,
          from: record.hash,
          to: migration.hash,
          tag,
        });
        continue;
      }
    }
    edited.push(tag);
  }
  const reasons = [
    status.unknown.length > 0 &&
      `${status.unknown.length} migration(s) this checkout does not have`,
    edited.length > 0 && `${edited.join(", ")} edited since it was applied (not committed)`,
  ].filter(Boolean);
  if (reasons.length > 0) result.misfit = reasons.join("; ");
  return result;
}

async function commentOf(admin: postgres.Sql, database: string): Promise<Comment | undefined> {
  const [row] = await admin<{ comment: string | null }[]>`
    SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database
    WHERE datname = ${database}`;
  return parseComment(row?.comment ?? null);
}

/** Rename the live database to a new copy of `branch` (its sessions disconnected); its name. */
async function keepAside(
  admin: postgres.Sql,
  live: string,
  branch: string,
  records: AppliedRecord[],
  lastMigration: string,
): Promise<string> {
  const saved = copyName(live);
  const dropped = await disconnect(admin, live);
  if (dropped > 0) warn(`disconnected ${dropped} session(s) of ${live} to keep it aside`);
  await admin.unsafe(`ALTER DATABASE ${ident(live)} RENAME TO ${ident(saved)}`);
  await setComment(admin, saved, {
    [MARK]: "copy",
    of: live,
    kind: "branch",
    branch,
    records,
    saved: new Date().toISOString(),
  });
  info(`kept as ${saved}, the copy of ${branch} at ${lastMigration}`);
  return saved;
}

/** The live database exists? */
async function exists(admin: postgres.Sql, database: string) {
  const rows = await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`;
  return rows.length > 0;
}

/**
 * Make the local database fit this checkout's branch (docs/branches.md has the rules). Local
 * targets only. Throws nothing for a committed migration edited: the migrator refuses that, with
 * its message.
 * - Back to a branch whose copy exists: that copy comes back, even when the database of the
 *   branch just left could be migrated forward, which stays that branch's.
 * - A branch new to this checkout: a copy of the database it was created from.
 * - A database that does not fit its own branch (an uncommitted migration edited): kept aside,
 *   and the best copy that fits comes back.
 * Nothing is dropped here: a copy may hold the only record of some branch's rows.
 */
export async function followCheckout(config: Config): Promise<void> {
  if (!isLocalHost(config.postgres.host)) return;
  const live = config.postgres.database;
  const [branch, committed] = await Promise.all([currentBranch(), committedTags()]);
  const here = branch ?? "this checkout";
  const admin = connect(maintenanceUrl(config.postgres));
  try {
    const liveExists = await exists(admin, live);
    const records = liveExists ? await readRecords(config, live) : [];
    const current = fitOf(config, records, committed);
    const owner = liveExists ? (await commentOf(admin, live))?.branch : undefined;
    const copies = await listCopies(admin, live); // newest first
    const fits = (copy: CopyInfo) => {
      const fit = fitOf(config, copy.records, committed);
      return !fit.misfit && !fit.immutable && fit.rehash.length === 0;
    };
    const names = await migrationNames([records, ...copies.map((c) => c.records)]);
    const at = (r: AppliedRecord[]) => lastTag(r, names);
    const keep = (itsBranch: string) => keepAside(admin, live, itsBranch, records, at(records));

    if (liveExists && owner !== undefined && owner !== here) {
      const own = copies.find((c) => c.kind === "branch" && c.branch === here && fits(c));
      if (own) {
        await keep(owner);
        await renameInto(admin, own, live);
        info(`restored ${live} from ${own.name}: the copy of ${here} at ${at(own.records)}`);
      } else if (current.immutable) {
        return;
      } else if (!current.misfit) {
        const saved = await keep(owner);
        await admin.unsafe(
          `CREATE DATABASE ${ident(live)} TEMPLATE ${ident(saved)} STRATEGY FILE_COPY`,
        );
        info(
          `${live} for ${here} starts as a copy of ${owner}'s (${here} is new to this checkout)`,
        );
      } else {
        info(`${live} of ${owner} does not fit ${here} (${current.misfit})`);
        await keep(owner);
        await restoreBest(admin, live, here, copies.filter(fits), at);
      }
    } else if (current.immutable) {
      return;
    } else if (!current.misfit) {
      await rehash(config, current);
      if (!liveExists) return;
    } else {
      info(`${live} does not fit ${here} (${current.misfit})`);
      await keep(owner ?? "an earlier checkout");
      await restoreBest(admin, live, here, copies.filter(fits), at);
    }
    await setComment(admin, live, { [MARK]: "live", branch: here });
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/** Uncommitted migrations edited only in their comments: their records take the new hash. */
async function rehash(config: Config, fit: Fit): Promise<void> {
  if (fit.rehash.length === 0) return;
  const sql = connect(config.postgres.url);
  try {
    for (const r of fit.rehash) {
      await sql`UPDATE drizzle.__drizzle_migrations SET hash = ${r.to}
                WHERE created_at = ${r.createdAt} AND hash = ${r.from}`;
      info(`${r.tag} changed only in its comments since it was applied: record updated, data kept`);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function renameInto(admin: postgres.Sql, copy: CopyInfo, live: string): Promise<void> {
  await disconnect(admin, copy.name);
  await admin.unsafe(`ALTER DATABASE ${ident(copy.name)} RENAME TO ${ident(live)}`);
}

/**
 * The database a branch gets when neither its own copy nor the live one fits: its own copies
 * first (its database, then its states before migrating), renamed into place; else another
 * branch's, copied, so it stays that branch's; the most migrations, then the newest; else empty.
 */
async function restoreBest(
  admin: postgres.Sql,
  live: string,
  here: string,
  fitting: CopyInfo[],
  at: (records: AppliedRecord[]) => string,
): Promise<void> {
  const rank = (c: CopyInfo) => (c.branch === here ? (c.kind === "branch" ? 0 : 1) : 2);
  const [best] = [...fitting].sort(
    (a, b) =>
      rank(a) - rank(b) || b.records.length - a.records.length || b.saved.localeCompare(a.saved),
  );
  const what = (c: CopyInfo) =>
    c.kind === "branch" ? `the copy of ${c.branch}` : `the state of ${c.branch} before migrating`;
  if (!best) {
    await admin.unsafe(`CREATE DATABASE ${ident(live)}`);
    warn(`no saved copy fits ${here}: ${live} starts empty (\`db seed\` fills it)`);
  } else if (best.branch === here) {
    await renameInto(admin, best, live);
    info(`restored ${live} from ${best.name}: ${what(best)} at ${at(best.records)}`);
  } else {
    await disconnect(admin, best.name);
    await admin.unsafe(
      `CREATE DATABASE ${ident(live)} TEMPLATE ${ident(best.name)} STRATEGY FILE_COPY`,
    );
    info(
      `${live} for ${here} starts as a copy of ${best.name}: ${what(best)} at ${at(best.records)}, which stays ${best.branch}'s`,
    );
  }
}

/**
 * Before `db up` applies migrations: a copy of the database as it is, to come back to (an
 * uncommitted migration edited, the branch that does not have them). The oldest beyond
 * KEEP_BEFORE are removed, and said so.
 */
export async function saveBeforeMigrating(config: Config): Promise<void> {
  if (!isLocalHost(config.postgres.host)) return;
  const live = config.postgres.database;
  const branch = (await currentBranch()) ?? "this checkout";
  const records = await readRecords(config, live);
  const admin = connect(maintenanceUrl(config.postgres));
  try {
    const name = copyName(live);
    const dropped = await disconnect(admin, live);
    if (dropped > 0) warn(`disconnected ${dropped} session(s) of ${live} to copy it`);
    await admin.unsafe(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(live)} STRATEGY FILE_COPY`);
    await setComment(admin, name, {
      [MARK]: "copy",
      of: live,
      kind: "before",
      branch,
      records,
      saved: new Date().toISOString(),
    });
    const before = (await listCopies(admin, live)).filter((c) => c.kind === "before");
    const points = new Set<string>();
    for (const copy of before) {
      const point = JSON.stringify(copy.records);
      const why = points.has(point)
        ? "a newer copy holds the same migrations"
        : points.size >= KEEP_BEFORE
          ? `only the newest ${KEEP_BEFORE} are kept`
          : undefined;
      points.add(point);
      if (!why) continue;
      await admin.unsafe(`DROP DATABASE IF EXISTS ${ident(copy.name)} WITH (FORCE)`);
      info(`removed ${copy.name}, a copy taken before migrating on ${copy.saved} (${why})`);
    }
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/** Branch names git has here (local and remote-tracking), or undefined without git. */
async function gitBranches(): Promise<Set<string> | undefined> {
  const repo = await findRepo(PACKAGE_ROOT);
  if (!repo) return undefined;
  const refs = await git(repo, ["for-each-ref", "--format=%(refname:short)", "refs/heads"]);
  return new Set(refs.toString().split("\n").filter(Boolean));
}

export interface PruneChoice {
  /** Every copy. */
  all: boolean;
  /** These copies, by name. */
  names: string[];
}

/**
 * The copies `db prune` would remove: the named ones; every one with --all; else those of branches
 * git no longer has (deleted, merged away, a detached commit's). With their sizes, newest first.
 */
export async function copiesToPrune(config: Config, choice: PruneChoice): Promise<SavedCopy[]> {
  const copies = await savedCopies(config);
  if (choice.names.length > 0) {
    const unknown = choice.names.filter((name) => !copies.some((c) => c.name === name));
    if (unknown.length > 0) {
      throw new CliError(`no saved copy named ${unknown.join(", ")} (\`db status\` lists them)`, 2);
    }
    return copies.filter((c) => choice.names.includes(c.name));
  }
  if (choice.all) return copies;
  const branches = await gitBranches();
  if (!branches) {
    throw new CliError(
      "without git there is no telling which branches are gone: name the copies (`db status` lists them), or --all",
      2,
    );
  }
  return copies.filter((c) => !branches.has(c.branch));
}

/** DROP the copies (they are this checkout's local server's databases, named as listCopies has them). */
export async function dropCopies(config: Config, copies: SavedCopy[]): Promise<void> {
  const admin = connect(maintenanceUrl(config.postgres));
  try {
    for (const copy of copies) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${ident(copy.name)} WITH (FORCE)`);
      info(
        `removed ${copy.name}, the ${copy.kind === "branch" ? "copy" : "state before migrating"} of ${copy.branch} at ${copy.at}`,
      );
    }
  } finally {
    await admin.end({ timeout: 1 });
  }
}
