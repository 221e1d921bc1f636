// Our migrator. drizzle-orm 0.x's own takes no lock, runs every pending file in one transaction,
// never checks hashes, and silently skips a file older than the newest applied one. This one:
// - holds a session advisory lock, so concurrent migrators (two deploys, two `db up`) queue up
//   and never apply a file twice; a waiting one polls for it (holding nothing a CREATE INDEX
//   CONCURRENTLY of the running one waits on), says who holds it, and gives up after a while;
// - retries a transactional file that hit its lock_timeout, a bounded number of times;
// - runs each file in its own transaction: a failed file rolls back completely, files before it
//   stay applied, and the error names the file and the statement;
// - bounds each file's waits for table locks (lock_timeout), so a migration never stalls the app
//   behind a lock it cannot get;
// - refuses to start, before connecting, when the folder fails its integrity file
//   (drizzle/migrations.sum: an edited, deleted, renamed or unrecorded migration);
// - refuses to start when an applied migration's file changed or the database has applied a
//   migration this folder does not know;
// - applies pending files in journal order, as drizzle-orm's migrator does; where the journal's
//   timestamps go backwards it refuses only what drizzle would silently skip on this database: a
//   pending file stamped at or before the newest one applied (skipRefusal);
// - refuses a pending transactional file holding its own BEGIN/COMMIT (scanned before connecting,
//   refused before any pending file runs): its COMMIT would end the file's transaction;
// - records in drizzle's own drizzle.__drizzle_migrations (hash, created_at = the journal's
//   `when`), so `drizzle-kit migrate` agrees on what is applied;
// - knows a migration by its content as well as by its time: a migration regenerated with the same
//   SQL under a new tag and timestamp (a branch rebased on main, docs/guards.md's collision fix) is
//   the one applied, and its record moves to the new time, with nothing re-applied.

import type postgres from "postgres";
import { ConnectDeadline, currentConnectDeadline, openPostgres } from "./connection.ts";
import { verifyIntegrity } from "./integrity.ts";
import {
  MIGRATIONS_FOLDER,
  type Migration,
  NO_TRANSACTION_MARKER,
  readMigrations,
  type TransactionControl,
  transactionControl,
} from "./migrations.ts";

/** Arbitrary but fixed: every @kata/db migrator contends for this one advisory lock. */
const MIGRATION_LOCK_KEY = 7_368_295_201;

/**
 * How long a migration statement may wait for a table lock. While an ALTER TABLE waits, every
 * query behind it in the lock queue waits too, so a busy table would stall the app: better to fail
 * the file (it rolls back) and retry. A file may set its own with `SET LOCAL lock_timeout = …`.
 * No statement_timeout: a backfill may legitimately run long; waiting on locks is what hurts.
 */
export const MIGRATION_LOCK_TIMEOUT = "5s";

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied, but the file's hash differs from the one recorded when it was applied. */
  modified: string[];
  /** Recorded as applied (by created_at), with no such migration in the folder. */
  unknown: string[];
  /** The records behind `unknown`, for tools that can say more (the CLI looks them up in git). */
  unknownRecords: AppliedRecord[];
  /** Applied under another created_at with the same content: `migrate` moves the record. */
  moved: { tag: string; from: string }[];
}

/** One row of drizzle.__drizzle_migrations. */
export interface AppliedRecord {
  hash: string;
  /** The journal's `when` of the migration applied, as text (a bigint). */
  createdAt: string;
}

export interface MigrateOptions {
  url: string;
  folder?: string;
  /** Progress lines, e.g. "applied 0003_add_x (12 ms)". */
  log?: (line: string) => void;
  /** How long, in all, to wait for another migrator's lock before giving up (default 10 min). */
  lockTimeoutMs?: number;
  /** How often to try the lock while another migrator holds it (default 500 ms). */
  lockPollMs?: number;
  /** How often to say who holds the lock while waiting (default every 10 s; the first at once). */
  progressEveryMs?: number;
  /**
   * Attempts of a transactional file whose statement hit its lock_timeout (55P03), each from a
   * clean rollback; the waits between them double from `retryDelayMs` (default 3 attempts, 1 s).
   */
  lockRetries?: number;
  retryDelayMs?: number;
}

export class MigrationError extends Error {
  override name = "MigrationError";
  constructor(
    message: string,
    readonly file?: string,
    readonly statement?: string,
    readonly code?: string,
    /** For a refusal: what was found, so a caller can explain it further. */
    readonly status?: MigrationStatus,
  ) {
    super(message);
  }
}

export interface AppliedRow {
  hash: string;
  created_at: string;
}

/** What a waiting migrator sees as the lock holder's application_name. */
export const MIGRATOR_APPLICATION_NAME = "kata-db migrate";

const connect = (url: string, deadline?: ConnectDeadline) =>
  openPostgres(
    url,
    { max: 1, idle_timeout: 1, connection: { application_name: MIGRATOR_APPLICATION_NAME } },
    { deadline },
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The session holding the migration lock, from pg_locks and pg_stat_activity. */
interface LockHolder {
  pid: number;
  application_name: string;
  client_addr: string | null;
  backend_start: Date;
  query_start: Date | null;
}

async function lockHolder(conn: postgres.ReservedSql): Promise<LockHolder | undefined> {
  // Advisory locks are per database. A bigint key is (classid, objid) = (high, low 32 bits), objsubid 1.
  const [holder] = await conn<LockHolder[]>`
    SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start,
           a.query_start
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = (${MIGRATION_LOCK_KEY}::bigint >> 32)::oid
      AND l.objid = (${MIGRATION_LOCK_KEY}::bigint & 4294967295)::oid`;
  return holder;
}

const clock = (d: Date) =>
  d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");

function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return "its holder has just let go";
  const who = `pid ${holder.pid}${holder.application_name ? ` (${holder.application_name})` : ""}`;
  const from = holder.client_addr ? ` from ${holder.client_addr}` : "";
  return `held by ${who}${from}, connected since ${clock(holder.backend_start)}`;
}

/**
 * Refuse a connection pooler in transaction (or statement) mode, e.g. PgBouncer's
 * pool_mode=transaction: it hands the server session to another client after every transaction,
 * so a session advisory lock is stranded there (held until the server connection is recycled)
 * or shared with whoever gets that session next, and no longer keeps two migrators apart.
 * Told by behaviour, which no setting can hide: while a second client holds a transaction open,
 * either it got this connection's server session, or this connection's next statement runs in
 * another one. Through a direct connection or a session-mode pooler, neither happens.
 */
/** Rounds of the pooler probe below; each costs three round trips. */
const POOLER_PROBE_ROUNDS = 5;

async function refuseTransactionPooler(
  url: string,
  conn: postgres.ReservedSql,
  deadline: ConnectDeadline,
): Promise<void> {
  const pid = async (q: Pick<postgres.Sql, "unsafe">) =>
    // Simple protocol: PgBouncer before 1.21 loses named prepared statements in this mode.
    Number((await q.unsafe("SELECT pg_backend_pid() AS pid").simple())[0]?.pid);
  // The second connection gets what the first left of the deadline, not a deadline of its own.
  const probe = connect(url, deadline);
  let shared: "transaction" | "statement" | undefined;
  try {
    // One round can miss: when other clients (a second migrator) use the pool in between, the
    // probe may get another server session and ours may come back to us. A direct connection
    // never shows sharing, so more rounds only make a miss through a pooler less likely.
    for (let round = 0; round < POOLER_PROBE_ROUNDS && !shared; round++) {
      const before = await pid(conn);
      await probe.begin(async (tx) => {
        const other = await pid(tx);
        const after = await pid(conn);
        if (other === before || after !== before) shared = "transaction";
      });
    }
  } catch (error) {
    // PgBouncer's statement mode refuses BEGIN itself: "FATAL: transaction blocks not allowed in
    // statement pooling mode", and closes the connection, which is all postgres.js reports
    // (CONNECTION_CLOSED). No PostgreSQL closes a connection for a BEGIN, so if the server still
    // answers on our own connection, it was the pooler.
    const closed = (error as { code?: string }).code === "CONNECTION_CLOSED";
    const stillThere = () =>
      pid(conn).then(
        () => true,
        () => false,
      );
    if (!/pooling mode/i.test((error as Error).message) && !(closed && (await stillThere()))) {
      throw error;
    }
    shared = "statement";
  } finally {
    await probe.end({ timeout: 1 });
  }
  if (shared) {
    throw new MigrationError(
      `refusing to migrate through a connection pooler in ${shared} mode (e.g. PgBouncer pool_mode=${shared}): its server sessions are shared, so the migration lock would not hold; use a direct URL to PostgreSQL, or a session-mode pool, for migrations`,
    );
  }
}

/**
 * Take the session-level migration lock by polling pg_try_advisory_lock. A migrator blocked in
 * pg_advisory_lock sits in a statement with a snapshot, and a CREATE INDEX CONCURRENTLY in the
 * migrator that holds the lock waits for every such snapshot to end: both would wait forever
 * (or until one is killed). Between polls this connection is idle, in no transaction.
 */
async function takeLock(
  conn: postgres.ReservedSql,
  opts: MigrateOptions,
  log: (l: string) => void,
) {
  const timeoutMs = opts.lockTimeoutMs ?? 600_000;
  const pollMs = opts.lockPollMs ?? 500;
  const everyMs = opts.progressEveryMs ?? 10_000;
  const started = performance.now();
  let lastSaid = Number.NEGATIVE_INFINITY;
  for (;;) {
    const [row] = await conn<{ got: boolean }[]>`
      SELECT pg_try_advisory_lock(${MIGRATION_LOCK_KEY}) AS got`;
    if (row?.got) {
      // Say so where a waiting migrator (and an operator's pg_stat_activity) looks: since when.
      const since = clock(new Date());
      await conn`SELECT set_config('application_name', ${`${MIGRATOR_APPLICATION_NAME}, holding the lock since ${since}`}, false)`;
      if (lastSaid > Number.NEGATIVE_INFINITY) {
        log(`took the migration lock after ${Math.round((performance.now() - started) / 1000)} s`);
      }
      return;
    }
    const waited = performance.now() - started;
    if (waited >= timeoutMs) {
      throw new MigrationError(
        `gave up waiting for the migration lock after ${Math.round(waited / 1000)} s: ${describeHolder(await lockHolder(conn))} (another migrator is running; try again when it is done)`,
      );
    }
    if (performance.now() - lastSaid >= everyMs) {
      lastSaid = performance.now();
      log(
        `waiting for the migration lock (${Math.round(waited / 1000)} s of ${Math.round(timeoutMs / 1000)} s): ${describeHolder(await lockHolder(conn))}`,
      );
    }
    await sleep(Math.min(pollMs, Math.max(0, timeoutMs - waited)));
  }
}

/** The records, in one round trip; none when the bookkeeping table or its schema is missing. */
async function readApplied(sql: postgres.Sql): Promise<AppliedRow[]> {
  try {
    return await sql<AppliedRow[]>`
      SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY created_at, id`;
  } catch (error) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing was ever migrated here.
    if (["42P01", "3F000"].includes((error as { code?: string }).code ?? "")) return [];
    throw error;
  }
}

/** What is applied, pending, modified, unknown or moved, from the folder and the records. */
export function compareMigrations(local: Migration[], applied: AppliedRow[]): MigrationStatus {
  const byWhen = new Map(applied.map((row) => [String(row.created_at), row.hash]));
  const localWhens = new Set(local.map((m) => String(m.when)));
  const status: MigrationStatus = {
    applied: [],
    pending: [],
    modified: [],
    unknown: [],
    unknownRecords: [],
    moved: [],
  };
  const pending: Migration[] = [];
  for (const migration of local) {
    const hash = byWhen.get(String(migration.when));
    if (hash === undefined) pending.push(migration);
    else if (hash !== migration.hash) status.modified.push(migration.tag);
    else status.applied.push(migration.tag);
  }
  const unknown = applied.filter((row) => !localWhens.has(String(row.created_at)));
  for (const row of unknown) {
    // Known by content: exactly one pending file has these bytes (the same SQL, regenerated).
    const same = pending.filter((m) => m.hash === row.hash);
    const match = same.length === 1 ? same[0] : undefined;
    if (match) {
      pending.splice(pending.indexOf(match), 1);
      status.moved.push({ tag: match.tag, from: String(row.created_at) });
      continue;
    }
    status.unknown.push(`created_at ${row.created_at} (hash ${row.hash.slice(0, 12)}…)`);
    status.unknownRecords.push({ hash: row.hash, createdAt: String(row.created_at) });
  }
  const moved = new Set(status.moved.map((m) => m.tag));
  status.applied = local
    .map((m) => m.tag)
    .filter((t) => moved.has(t) || status.applied.includes(t));
  status.pending = pending.map((m) => m.tag);
  return status;
}

/** What is applied, pending, modified or unknown; reads only, takes no lock. */
export async function migrationStatus(opts: {
  url: string;
  folder?: string;
}): Promise<MigrationStatus> {
  const local = readMigrations(opts.folder ?? MIGRATIONS_FOLDER);
  const sql = connect(opts.url);
  try {
    return compareMigrations(local, await readApplied(sql));
  } finally {
    await sql.end();
  }
}

function refusal(status: MigrationStatus): string | undefined {
  if (status.modified.length > 0) {
    return `refusing to migrate: applied migration ${status.modified.join(", ")} changed since it was applied (committed migrations are immutable: restore the file and put the change in a new migration)`;
  }
  if (status.unknown.length > 0) {
    return `refusing to migrate: the database has applied migrations this folder does not know: ${status.unknown.join(", ")} (is this checkout behind the one that migrated it?)`;
  }
  return undefined;
}

/** How messages name a migrations folder: `drizzle` for this package's, else the path given. */
export const displayFolder = (folder: string) =>
  folder === MIGRATIONS_FOLDER ? "drizzle" : folder.replace(/\/+$/, "");

/**
 * drizzle-orm's migrator (and `drizzle-kit migrate`) reads only the newest created_at recorded and
 * applies every journal entry stamped after it, in journal order: an entry stamped at or before it
 * that is not applied yet is skipped, without a word, on every run. On a database where nothing
 * is skipped (a fresh one, or one whose pending files are all stamped after its newest record) a
 * journal whose timestamps go backwards is applied completely, by drizzle and by us alike.
 */
function skipRefusal(local: Migration[], status: MigrationStatus): string | undefined {
  const byTag = new Map(local.map((m) => [m.tag, m]));
  // Not the records this run moves: such a migration was generated again on top of the pending
  // ones (a branch rebased, docs/guards.md's collision fix), its old time says nothing about
  // them, and after this run every record is at its migration's own time again.
  const moved = new Set(status.moved.map((m) => m.tag));
  const records = status.applied
    .filter((tag) => !moved.has(tag))
    .map((tag) => ({ tag, at: (byTag.get(tag) as Migration).when }));
  const newest = records.reduce<(typeof records)[number] | undefined>(
    (max, r) => (max === undefined || r.at > max.at ? r : max),
    undefined,
  );
  if (!newest) return undefined;
  const skipped = status.pending
    .map((tag) => byTag.get(tag) as Migration)
    .filter((m) => m.when <= newest.at);
  const [first, ...more] = skipped;
  if (!first) return undefined;
  return `refusing to migrate: journal entry ${first.tag} is stamped before ${newest.tag}, the newest migration applied to this database (its when ${first.when} ≤ created_at ${newest.at}): drizzle-orm's migrator and \`drizzle-kit migrate\` skip such a file without a word, so a database they migrate would never get it; give it a timestamp after ${newest.tag}'s by generating it again on top (docs/guards.md, branch collisions)${more.length ? ` (so would ${more.map((m) => m.tag).join(", ")})` : ""}`;
}

/** Each migration's own transaction control, by tag (none for a no-transaction file). */
const scanAll = (local: Migration[]) => new Map(local.map((m) => [m.tag, transactionControl(m)]));

/** A pending transactional file's own BEGIN/COMMIT: refused before any pending file runs. */
function controlRefusal(
  local: Migration[],
  status: MigrationStatus,
  folder: string,
  scanned = scanAll(local),
): { message: string; tag: string; hit: TransactionControl } | undefined {
  const pending = new Set(status.pending);
  const found = local
    .filter((m) => pending.has(m.tag))
    .map((m) => ({ tag: m.tag, hits: scanned.get(m.tag) ?? [] }))
    .filter((f) => f.hits.length > 0);
  const [first, ...others] = found;
  const hit = first?.hits[0];
  if (!first || !hit) return undefined;
  const also = others.length ? ` (so do ${others.map((f) => `${f.tag}.sql`).join(", ")})` : "";
  return {
    tag: first.tag,
    hit,
    message: `refusing to migrate: ${folder}/${first.tag}.sql:${hit.line} (statement #${hit.statement}) has its own \`${hit.text}\`, which would end the transaction the migrator runs the file in (what follows it could not be rolled back, and the file would be recorded apart from it): remove the file's BEGIN/COMMIT statements, or put \`${NO_TRANSACTION_MARKER}\` on its first line to run it without a transaction${also}`,
  };
}

/**
 * The refusal for a status, or undefined when migrating may go ahead (for callers that check
 * first). With the folder's migrations, also what drizzle would skip and a pending file's own
 * transaction control.
 */
export function refusalOf(
  status: MigrationStatus,
  local?: Migration[],
  folder = "drizzle",
): string | undefined {
  return (
    refusal(status) ??
    (local
      ? (skipRefusal(local, status) ?? controlRefusal(local, status, folder)?.message)
      : undefined)
  );
}

/** Apply every pending migration; returns the tags applied now (empty when up to date). */
export async function migrate(opts: MigrateOptions): Promise<{ applied: string[] }> {
  // Check and read every file before touching the database: hooks can be skipped, this cannot.
  const folder = opts.folder ?? MIGRATIONS_FOLDER;
  const display = displayFolder(folder);
  // The journal's layout (numbering, timestamps going back, snapshots) is `db check`'s to report:
  // drizzle-orm applies such folders as they are (see IntegrityFinding.layout).
  const [finding, ...more] = verifyIntegrity(folder, display).filter((f) => !f.layout);
  if (finding) {
    throw new MigrationError(
      `refusing to migrate: ${finding.message}${more.length ? ` (and ${more.length} more: run \`db check\`)` : ""}`,
      finding.file,
    );
  }
  const local = readMigrations(folder);
  // Every transactional file scanned for its own BEGIN/COMMIT before connecting; refused (below,
  // once the records are read) before any pending file runs, and only where such a file is
  // pending: one applied already (by drizzle-kit, or before this check existed) is immutable
  // history that no edit can fix — its hash would no longer match — and it stays applied.
  const scanned = scanAll(local);
  const log = opts.log ?? (() => {});
  // One connect deadline for both connections (src/connection.ts): the command's, if any.
  const deadline = currentConnectDeadline(opts.url) ?? ConnectDeadline.for(opts.url);
  const sql = connect(opts.url, deadline);
  const conn = await sql.reserve();
  try {
    // Up to date, the usual case (every `db up`, every test run's start), is told by one read,
    // with neither the pooler probe nor the lock: with no file pending or moved, none would be
    // applied. A migrator applying meanwhile is no reason to wait: what it has committed is read,
    // and a file it has not is pending here, which takes the path below (and its lock).
    const seen = compareMigrations(local, await readApplied(conn));
    if (seen.pending.length === 0 && seen.moved.length === 0) {
      const refused = refusal(seen);
      if (refused) throw new MigrationError(refused, undefined, undefined, undefined, seen);
      return { applied: [] };
    }
    await refuseTransactionPooler(opts.url, conn, deadline);
    // Session-level lock on this one connection, polled (takeLock says why).
    await takeLock(conn, opts, log);
    try {
      // Inside the lock: concurrent CREATE … IF NOT EXISTS can still collide without it.
      await conn.unsafe(`CREATE SCHEMA IF NOT EXISTS drizzle`);
      await conn.unsafe(`CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (
        id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      const status = compareMigrations(local, await readApplied(conn));
      const refused = refusal(status);
      if (refused) throw new MigrationError(refused, undefined, undefined, undefined, status);
      const skipped = skipRefusal(local, status);
      if (skipped) throw new MigrationError(skipped, undefined, undefined, undefined, status);
      const controlled = controlRefusal(local, status, display, scanned);
      if (controlled) {
        const { message, tag, hit } = controlled;
        throw new MigrationError(message, tag, hit.text, undefined, status);
      }

      for (const { tag, from } of status.moved) {
        const migration = local.find((m) => m.tag === tag) as Migration;
        await conn`UPDATE drizzle.__drizzle_migrations SET created_at = ${migration.when}
                   WHERE created_at = ${from} AND hash = ${migration.hash}`;
        log(
          `recognised ${tag} by its content (applied as created_at ${from}): record moved, nothing re-applied`,
        );
      }

      const pending = new Set(status.pending);
      const applied: string[] = [];
      for (const migration of local.filter((m) => pending.has(m.tag))) {
        const started = performance.now();
        await applyWithRetries(conn, migration, opts, log);
        applied.push(migration.tag);
        log(`applied ${migration.tag} (${Math.round(performance.now() - started)} ms)`);
      }
      return { applied };
    } finally {
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    }
  } finally {
    conn.release();
    await sql.end();
  }
}

/**
 * A transactional file that hit its lock_timeout (55P03: the app held a lock on its table) rolled
 * back completely, so it is tried again from the start, a bounded number of times with a growing
 * wait. A file without a transaction is not: statements before the failed one stay applied, and a
 * CREATE INDEX CONCURRENTLY that timed out can leave an invalid index to drop by hand first.
 */
async function applyWithRetries(
  conn: postgres.ReservedSql,
  migration: Migration,
  opts: MigrateOptions,
  log: (line: string) => void,
): Promise<void> {
  const attempts = Math.max(1, opts.lockRetries ?? 3);
  let delay = opts.retryDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const batched = migration.transactional && attempt < attempts;
      await (batched ? applyBatched : applyOne)(conn, migration);
      return;
    } catch (error) {
      const timedOut = (error as MigrationError).code === "55P03";
      if (!timedOut || !migration.transactional || attempt >= attempts) {
        if (timedOut && migration.transactional) {
          throw new MigrationError(
            `${(error as Error).message} (after ${attempts} attempts: something holds a lock on its table for longer; retry when the app is quieter)`,
            migration.tag,
            (error as MigrationError).statement,
            "55P03",
          );
        }
        throw error;
      }
      log(
        `${migration.tag} waited longer than lock_timeout for a table lock (attempt ${attempt} of ${attempts}): rolled back, trying again in ${Math.round(delay / 100) / 10} s`,
      );
      await sleep(delay);
      delay *= 2;
    }
  }
}

/**
 * A transactional file in one round trip: BEGIN, its statements, its record and COMMIT as one
 * simple-protocol query, so a long history costs a round trip per file rather than one per
 * statement (and three more for the transaction). When anything in it fails, the server skips the
 * rest and the block is rolled back: nothing of the file stays, and it is run again statement by
 * statement (applyOne), which finds the statement at fault and says so; a failure that does not
 * come back that second time (a lock wait that ended) leaves the file applied, as a retry would.
 */
async function applyBatched(conn: postgres.ReservedSql, migration: Migration): Promise<void> {
  if (!/^[0-9a-f]+$/.test(migration.hash)) throw new Error(`unexpected hash ${migration.hash}`);
  const batch = [
    "BEGIN",
    `SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`,
    ...migration.statements,
    `INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('${migration.hash}', ${Number(migration.when)})`,
    "COMMIT",
  ].join("\n;\n"); // a newline first: a statement may end in a -- comment
  try {
    await conn.unsafe(batch).simple();
  } catch (error) {
    await conn.unsafe("ROLLBACK").catch(() => {});
    // A lock wait would only be waited again: say so now, and let applyWithRetries try later
    // (its last attempt runs statement by statement, to name the statement).
    if ((error as { code?: string }).code === "55P03") throw failure(migration, "", -2, error);
    await applyOne(conn, migration);
  }
}

async function applyOne(conn: postgres.ReservedSql, migration: Migration): Promise<void> {
  // SET LOCAL ends with the transaction; a file run outside one sets it for the session.
  await conn
    .unsafe(
      migration.transactional
        ? `BEGIN; SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`
        : `SET lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`,
    )
    .simple();
  let current = "";
  let index = -1;
  try {
    for (const [i, statement] of migration.statements.entries()) {
      current = statement;
      index = i;
      // Simple protocol: a hand-written chunk may hold several statements (function bodies).
      await conn.unsafe(statement).simple();
    }
    index = -1;
    current = "recording the migration";
    await conn`INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
               VALUES (${migration.hash}, ${migration.when})`;
    // Deferred constraints are checked here, so COMMIT can fail too.
    current = "COMMIT";
    await conn.unsafe(migration.transactional ? "COMMIT" : "RESET lock_timeout");
  } catch (error) {
    if (migration.transactional) await conn.unsafe("ROLLBACK").catch(() => {});
    throw failure(migration, current, index, error);
  }
}

/**
 * The error for a failed file; `index` is the statement's position, -1 for the bookkeeping, -2
 * when it is not known (a batched file's lock wait).
 */
function failure(migration: Migration, statement: string, index: number, error: unknown) {
  const where =
    index >= 0 ? `statement #${index + 1}` : index === -2 ? "one of its statements" : statement;
  const pg = error as Partial<postgres.PostgresError>;
  const firstLine =
    statement
      .split("\n")
      .find((line) => line.trim() && !line.trim().startsWith("--"))
      ?.trim() ?? "";
  const excerpt = firstLine.length > 80 ? `${firstLine.slice(0, 77)}…` : firstLine;
  const outcome = migration.transactional
    ? "rolled back, the database is as before this file"
    : `ran without a transaction (${NO_TRANSACTION_MARKER}): statements before it stay applied`;
  return new MigrationError(
    `migration ${migration.tag} failed at ${where}${index >= 0 ? ` (${excerpt})` : ""}: ${pg.message ?? String(error)}${pg.code ? ` [${pg.code}]` : ""}; ${outcome}`,
    migration.tag,
    statement,
    pg.code,
  );
}
