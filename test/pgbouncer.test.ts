// Migrating through Debian's real PgBouncer (test/helpers/pgbouncer.ts), in both pool modes.
// Session mode keeps one server session per client: the migration lock holds, and two migrators
// at once apply each file exactly once. Transaction mode shares server sessions between clients:
// the migrator refuses it in one line, before it changes anything. Statement mode, which refuses
// transactions altogether, is refused the same way, and named.

import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJournal } from "../src/migrations.ts";
import { migrate } from "../src/migrator.ts";
import { createTestDatabase, dropTestDatabase, testContext } from "../src/testing/index.ts";
import { db, makeProject, oneLineError } from "./cli/helpers.ts";
import { addMigration, copyMigrations } from "./helpers/migrations-folder.ts";
import { type Pgbouncer, pgbouncerBinary, startPgbouncer } from "./helpers/pgbouncer.ts";

// CI installs pgbouncer (.ci/run); elsewhere, without it, these tests say so and are skipped.
const installed = Boolean(pgbouncerBinary());
if (!installed && process.env.CI) throw new Error("pgbouncer is not installed, and CI=true");

const databases: string[] = [];
const poolers: Pgbouncer[] = [];
afterAll(async () => {
  for (const p of poolers) await p.stop();
  for (const url of databases) await dropTestDatabase(url);
});

async function records(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql<{ hash: string }[]>`SELECT hash FROM drizzle.__drizzle_migrations`.catch(
      () => [],
    );
  } finally {
    await sql.end();
  }
}

/** A folder with the history plus a slow file, so the second migrator comes while one runs. */
function slowFolder() {
  const folder = copyMigrations();
  addMigration(folder, "0003_slow", "SELECT pg_sleep(1);");
  addMigration(folder, "0004_after", "CREATE TABLE pooled_after (id int);");
  return folder;
}

describe.skipIf(!installed)("through PgBouncer", () => {
  let session: Pgbouncer;
  let transaction: Pgbouncer;
  let statement: Pgbouncer;
  beforeAll(async () => {
    const start = (mode: "session" | "transaction" | "statement") =>
      startPgbouncer(testContext().adminUrl, mode);
    [session, transaction, statement] = await Promise.all([
      start("session"),
      start("transaction"),
      start("statement"),
    ]);
    poolers.push(session, transaction, statement);
  });

  it("session mode: two migrators at once apply each file exactly once", async () => {
    const direct = await createTestDatabase(null);
    databases.push(direct);
    const folder = slowFolder();
    const url = session.url(direct);
    const results = await Promise.all([
      migrate({ url, folder, lockPollMs: 100 }),
      migrate({ url, folder, lockPollMs: 100 }),
    ]);
    const tags = readJournal(folder).entries.map((e) => e.tag);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([...tags].sort());
    const hashes = (await records(direct)).map((r) => r.hash);
    expect(hashes).toHaveLength(tags.length);
    expect(new Set(hashes).size).toBe(tags.length);
  });

  it("transaction mode: both migrators refuse in one line, and the database is untouched", async () => {
    const direct = await createTestDatabase(null);
    databases.push(direct);
    await migrate({ url: direct });
    const before = await records(direct);
    const url = transaction.url(direct);
    const folder = slowFolder();
    const outcomes = await Promise.allSettled([
      migrate({ url, folder, lockPollMs: 100 }),
      migrate({ url, folder, lockPollMs: 100 }),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const message = (outcome as PromiseRejectedResult).reason.message as string;
      expect(message).toMatch(
        /^refusing to migrate through a connection pooler in transaction mode .*use a direct URL to PostgreSQL/,
      );
      expect(message).not.toContain("\n");
    }
    expect(await records(direct)).toEqual(before);
  });

  it("statement mode: refused in one line naming it, and the database is untouched", async () => {
    const direct = await createTestDatabase(null);
    databases.push(direct);
    const error = await migrate({ url: statement.url(direct) }).then(
      () => undefined,
      (reason: Error) => reason,
    );
    expect(error?.message).toMatch(
      /^refusing to migrate through a connection pooler in statement mode \(e\.g\. PgBouncer pool_mode=statement\).*use a direct URL to PostgreSQL/,
    );
    expect(error?.message).not.toContain("\n");
    expect(await records(direct)).toEqual([]);
  });

  it("transaction mode from the CLI: one ✖ line, exit 1, no password", async () => {
    const project = await makeProject();
    const direct = await createTestDatabase(null);
    databases.push(direct);
    const url = new URL(transaction.url(direct));
    const run = await db(project.root, ["migrate"], { env: { DATABASE_URL: url.toString() } });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(/refusing to migrate through a connection pooler/);
    // The suite's password is too short to search for alone: the URL's userinfo must not appear.
    expect(run.stderr + run.stdout).not.toContain(`${url.username}:${url.password}@`);
  });
});
