// The local database follows the checkout. Each branch may carry migrations the others do not
// have; one database cannot hold two histories, so when this checkout's migrations and the local
// database's diverge, the database is kept aside as a saved copy and the best copy that fits this
// checkout takes its place. Copies are PostgreSQL databases on the same local server, named
// `<database>__kata_<id>`, described by a JSON comment (`COMMENT ON DATABASE`): which branch,
// which migrations applied. Renaming a database is instant; a copy is `CREATE DATABASE … TEMPLATE
// … STRATEGY FILE_COPY` (see README for how long that takes, by size).
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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { sha256 } from "../../src/hash.ts";
import { MIGRATIONS_FOLDER, readMigrations } from "../../src/migrations.ts";
import { type AppliedRecord, compareMigrations } from "../../src/migrator.ts";
import { type Config, isLocalHost, PACKAGE_ROOT } from "./env.ts";
import { findRepo, git, resolveCommit, treeFiles } from "./guards/git.ts";
import { describeUnknown } from "./migration-origin.ts";
import { connect, maintenanceUrl } from "./pg.ts";
import { info, warn } from "./task.ts";

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
    const tags = tagsByTime();
    const sizes = await admin<{ datname: string; bytes: string }[]>`
      SELECT datname, pg_database_size(oid)::text AS bytes FROM pg_database
      WHERE datname IN ${admin(copies.map((c) => c.name))}`;
    const bytes = new Map(sizes.map((row) => [row.datname, Number(row.bytes)]));
    // A branch's copy often ends in a migration only that branch has: git says which.
    const foreign = copies
      .map((c) => c.records.at(-1))
      .filter((r): r is AppliedRecord => r !== undefined && !tags.has(r.createdAt));
    const named = await describeUnknown(foreign);
    for (const [i, record] of foreign.entries()) {
      tags.set(record.createdAt, named[i] ?? record.createdAt);
    }
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

/** This checkout's migration tags by their journal time (a record's created_at). */
const tagsByTime = () =>
  new Map(readMigrations(MIGRATIONS_FOLDER).map((m) => [String(m.when), m.tag]));

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
  tags: Map<string, string>,
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
  info(`kept as ${saved}, the copy of ${branch} at ${lastTag(records, tags)}`);
  return saved;
}

/** The live database exists? */
async function exists(admin: postgres.Sql, database: string) {
  const rows = await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`;
  return rows.length > 0;
}

/**
 * Make the local database fit this checkout: keep a misfit aside as a copy and bring the best
 * fitting copy back. Local targets only; a no-op when the database fits. Throws nothing for a
 * committed migration edited (the migrator refuses that, with its message).
 */
export async function followCheckout(config: Config): Promise<void> {
  if (!isLocalHost(config.postgres.host)) return;
  const live = config.postgres.database;
  const [branch, committed] = await Promise.all([currentBranch(), committedTags()]);
  const here = branch ?? "this checkout";
  const tags = tagsByTime();
  const admin = connect(maintenanceUrl(config.postgres));
  try {
    const liveExists = await exists(admin, live);
    const records = liveExists ? await readRecords(config, live) : [];
    const current = fitOf(config, records, committed);
    if (current.immutable) return; // the migrator's refusal says what to do
    const liveComment = liveExists ? await commentOf(admin, live) : undefined;
    const owner = liveComment?.branch;
    // A branch checked out here for the first time gets a database of its own: a copy of the one
    // it was created from, which stays that branch's (its rows never leak into the new branch's,
    // nor the new one's into it).
    if (
      !current.misfit &&
      liveExists &&
      owner !== undefined &&
      owner !== here &&
      !(await listCopies(admin, live)).some((c) => c.kind === "branch" && c.branch === here)
    ) {
      const saved = await keepAside(admin, live, owner, records, tags);
      await admin.unsafe(
        `CREATE DATABASE ${ident(live)} TEMPLATE ${ident(saved)} STRATEGY FILE_COPY`,
      );
      info(`${live} for ${here} starts as a copy of ${owner}'s (${here} is new to this checkout)`);
      await setComment(admin, live, { [MARK]: "live", branch: here });
      return;
    }
    if (!current.misfit) {
      if (current.rehash.length > 0) {
        const sql = connect(config.postgres.url);
        try {
          for (const r of current.rehash) {
            await sql`UPDATE drizzle.__drizzle_migrations SET hash = ${r.to}
                      WHERE created_at = ${r.createdAt} AND hash = ${r.from}`;
            info(
              `${r.tag} changed only in its comments since it was applied: record updated, data kept`,
            );
          }
        } finally {
          await sql.end({ timeout: 1 });
        }
      }
      if (liveExists) await setComment(admin, live, { [MARK]: "live", branch: here });
      return;
    }

    // Keep the database that does not fit as its branch's copy.
    const itsBranch = owner ?? "an earlier checkout";
    const copies = await listCopies(admin, live);
    info(`${live} does not fit ${here} (${current.misfit})`);
    await keepAside(admin, live, itsBranch, records, tags);
    // A branch keeps one copy: its older one is an earlier state of the same data.
    for (const old of copies.filter((c) => c.kind === "branch" && c.branch === itsBranch)) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${ident(old.name)} WITH (FORCE)`);
      info(`removed ${old.name}, the older copy of ${itsBranch} (saved ${old.saved})`);
    }

    // The copy that fits, with the most migrations applied; this branch's own first.
    const candidates = copies
      .filter((c) => !(c.kind === "branch" && c.branch === itsBranch))
      .filter((c) => {
        const f = fitOf(config, c.records, committed);
        return !f.misfit && !f.immutable && f.rehash.length === 0;
      })
      .sort(
        (a, b) =>
          Number(b.kind === "branch" && b.branch === here) -
            Number(a.kind === "branch" && a.branch === here) ||
          b.records.length - a.records.length ||
          b.saved.localeCompare(a.saved),
      );
    const best = candidates[0];
    if (best) {
      await disconnect(admin, best.name);
      await admin.unsafe(`ALTER DATABASE ${ident(best.name)} RENAME TO ${ident(live)}`);
      info(
        `restored ${live} from ${best.name}: the ${best.kind === "branch" ? `copy of ${best.branch}` : `state of ${best.branch} before migrating`} at ${lastTag(best.records, tags)}`,
      );
    } else {
      await admin.unsafe(`CREATE DATABASE ${ident(live)}`);
      warn(`no saved copy fits ${here}: ${live} starts empty (\`db seed\` fills it)`);
    }
    await setComment(admin, live, { [MARK]: "live", branch: here });
  } finally {
    await admin.end({ timeout: 1 });
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
