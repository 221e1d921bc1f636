// Waiting for the migration lock (src/migrator.ts takeLock) and retrying a file that hit its
// lock_timeout, on the suite's real server: who holds the lock is told, the wait is bounded, and a
// waiting migrator no longer deadlocks a CREATE INDEX CONCURRENTLY of the one running.

import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { readJournal } from "../src/migrations.ts";
import { migrate } from "../src/migrator.ts";
import { createTestDatabase, dropTestDatabase } from "../src/testing/index.ts";
import { addMigration, copyMigrations } from "./helpers/migrations-folder.ts";

const LOCK_KEY = 7_368_295_201;
const databases: string[] = [];
const sessions: postgres.Sql[] = [];
const migratedDatabase = async () => {
  const url = await createTestDatabase(null);
  databases.push(url);
  await migrate({ url });
  return url;
};
const session = (url: string, application_name = "kata-lock-test") => {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name } });
  sessions.push(sql);
  return sql;
};
afterAll(async () => {
  for (const sql of sessions) await sql.end({ timeout: 1 });
  for (const url of databases) await dropTestDatabase(url);
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wait until `condition` (SQL, true or false) holds in the database. */
async function until(url: string, condition: string) {
  const check = session(url, "kata-lock-test-observer");
  for (;;) {
    const [row] = await check.unsafe(`SELECT (${condition}) AS holds`);
    if (row?.holds) return;
    await sleep(20);
  }
}

describe("waiting for the migration lock", () => {
  it("an up-to-date database: nothing to apply, so no waiting for the lock another holds", async () => {
    const url = await migratedDatabase();
    const holder = session(url, "deploy-41");
    await holder`SELECT pg_advisory_lock(${LOCK_KEY})`;
    const started = performance.now();
    await expect(migrate({ url, lockTimeoutMs: 1500, lockPollMs: 100 })).resolves.toEqual({
      applied: [],
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("says who holds it (pid, application_name, address, since when) and gives up after the timeout", async () => {
    const url = await migratedDatabase();
    // Something to apply: an up-to-date database is told without the lock (the test above).
    const folder = copyMigrations();
    addMigration(folder, "0003_behind_the_lock", "CREATE TABLE behind_the_lock (id int);");
    const holder = session(url, "deploy-42");
    const [{ pid }] =
      (await holder`SELECT pg_advisory_lock(${LOCK_KEY}), pg_backend_pid() AS pid`) as unknown as [
        { pid: number },
      ];
    const lines: string[] = [];
    const started = performance.now();
    await expect(
      migrate({
        url,
        folder,
        lockTimeoutMs: 1500,
        lockPollMs: 100,
        progressEveryMs: 500,
        log: (l) => lines.push(l),
      }),
    ).rejects.toThrow(
      new RegExp(
        `^gave up waiting for the migration lock after 2 s: held by pid ${pid} \\(deploy-42\\) from 127\\.0\\.0\\.1, connected since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(another migrator is running`,
      ),
    );
    expect(performance.now() - started).toBeLessThan(4000);
    expect(lines[0]).toMatch(
      new RegExp(
        `^waiting for the migration lock \\(0 s of 2 s\\): held by pid ${pid} \\(deploy-42\\)`,
      ),
    );
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it("takes the lock when its holder lets go, and says after how long", async () => {
    const url = await migratedDatabase();
    const folder = copyMigrations();
    addMigration(folder, "0003_after_wait", "CREATE TABLE after_wait (id int);");
    const holder = session(url);
    await holder`SELECT pg_advisory_lock(${LOCK_KEY})`;
    // postgres.js runs a query when it is awaited (then): `void` alone would never send it.
    setTimeout(() => holder`SELECT pg_advisory_unlock(${LOCK_KEY})`.then(() => {}), 1200);
    const lines: string[] = [];
    const { applied } = await migrate({ url, folder, lockPollMs: 100, log: (l) => lines.push(l) });
    expect(applied).toEqual(["0003_after_wait"]);
    expect(lines[0]).toMatch(/^waiting for the migration lock/);
    expect(lines).toContainEqual(expect.stringMatching(/^took the migration lock after 1 s$/));
  });

  it("the hazard: a session blocked in pg_advisory_lock deadlocks CREATE INDEX CONCURRENTLY", async () => {
    // What the migrator did before it polled: shown here so the test below can fail.
    const url = await migratedDatabase();
    const running = session(url);
    const waiting = session(url);
    await running`SELECT pg_advisory_lock(${LOCK_KEY})`;
    const blocked = waiting`SELECT pg_advisory_lock(${LOCK_KEY})`.catch((e) => e);
    // Blocked: its request for the advisory lock is in pg_locks, not granted.
    await until(
      url,
      "EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted)",
    );
    const index = running
      .unsafe("CREATE INDEX CONCURRENTLY hazard_idx ON users (name)")
      .catch((e) => e);
    const outcomes = await Promise.all([index, blocked]);
    expect(outcomes.map((o) => (o as { code?: string })?.code)).toContain("40P01"); // deadlock detected
  });

  it("two migrators: one runs a kata:no-transaction CONCURRENTLY file while the other waits; no deadlock", async () => {
    const url = await migratedDatabase();
    const folder = copyMigrations();
    addMigration(folder, "0003_slow", "SELECT pg_sleep(1.5);");
    addMigration(
      folder,
      "0004_concurrent_index",
      "-- kata:no-transaction\nCREATE INDEX CONCURRENTLY users_name_idx ON users (name);",
    );
    const first = migrate({ url, folder, lockPollMs: 100 });
    // The first holds the lock and runs 0003.
    await until(
      url,
      // The file runs as one batch (BEGIN; …; COMMIT): its text is somewhere in the query.
      "EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%SELECT pg_sleep(1.5)%')",
    );
    const lines: string[] = [];
    const second = migrate({ url, folder, lockPollMs: 100, log: (l) => lines.push(l) });
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.applied)).toEqual([["0003_slow", "0004_concurrent_index"], []]);
    expect(lines[0]).toMatch(
      /^waiting for the migration lock .*\(kata-db migrate, holding the lock since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\) from 127\.0\.0\.1/,
    );
    const check = session(url);
    const [row] = await check`
      SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = 'users_name_idx'::regclass`;
    expect(row?.indisvalid).toBe(true);
    const records = await check`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
    expect(records[0]?.n).toBe(folderSize(folder));
  });
});

const folderSize = (folder: string) => readJournal(folder).entries.length;

/** users locked by another session (as an app's long transaction would), until release(). */
async function lockUsers(url: string) {
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const held = session(url).begin(async (tx) => {
    await tx`LOCK TABLE users IN ACCESS SHARE MODE`;
    locked();
    await released;
  });
  await Promise.race([isLocked, held]); // a failed session fails the test at once
  return { release, held };
}

describe("a file that hits its lock_timeout", () => {
  const alter =
    "SET LOCAL lock_timeout = '200ms';\n--> statement-breakpoint\nALTER TABLE users ADD COLUMN nickname text;";

  it("is rolled back and tried again, from clean, until it gets the lock", async () => {
    const url = await migratedDatabase();
    const folder = copyMigrations();
    addMigration(folder, "0003_nickname", alter);
    // Held from before the migrator starts until its first attempt has timed out (its first
    // log line), whatever the machine's load: the retry 0.3 s later finds the table free.
    const { release, held } = await lockUsers(url);
    const lines: string[] = [];
    const { applied } = await migrate({
      url,
      folder,
      retryDelayMs: 300,
      log: (l) => {
        lines.push(l);
        release();
      },
    });
    await held;
    expect(applied).toEqual(["0003_nickname"]);
    expect(lines[0]).toMatch(
      /^0003_nickname waited longer than lock_timeout for a table lock \(attempt 1 of 3\): rolled back, trying again in 0\.3 s$/,
    );
  });

  it("gives up after the last attempt, leaving the database as it was", async () => {
    const url = await migratedDatabase();
    const folder = copyMigrations();
    addMigration(folder, "0003_nickname", alter);
    const { release, held } = await lockUsers(url);
    const lines: string[] = [];
    await expect(
      migrate({ url, folder, lockRetries: 2, retryDelayMs: 100, log: (l) => lines.push(l) }),
    ).rejects.toThrow(
      /^migration 0003_nickname failed at statement #2 .*\[55P03\]; rolled back.*\(after 2 attempts: /,
    );
    release();
    await held;
    expect(lines).toHaveLength(1);
    const check = session(url);
    const columns =
      await check`SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'`;
    expect(columns).toHaveLength(0);
    const records = await check`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
    expect(records[0]?.n).toBe(folderSize(folder) - 1);
  });
});
