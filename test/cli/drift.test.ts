// Drift of a live database (scripts/guards/live-drift.ts) through `db check --database` and
// `db status`, as processes: a database altered by hand is caught, one line per difference, and a
// role that may not CREATE DATABASE gets its migrations replayed in a throwaway local server.

import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/migrator.ts";
import { createTestDatabase, dropTestDatabase, testContext } from "../../src/testing/index.ts";
import { db, makeProject, oneLineError, type Project } from "./helpers.ts";

let project: Project;
const databases: string[] = [];
const role = `kata_drift_${randomBytes(4).toString("hex")}`;
beforeAll(async () => {
  project = await makeProject();
});
afterAll(async () => {
  for (const url of databases) await dropTestDatabase(url);
  const admin = postgres(testContext().adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  await admin.end();
});

const migrated = async () => {
  const url = await createTestDatabase();
  databases.push(url);
  return url;
};
const check = (url: string) =>
  db(project.root, ["check", "--database"], { env: { DATABASE_URL: url } });
const errorLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("✖ "))
    .map((l) => l.slice(2));

describe("drift of a live database", () => {
  it("none in a database its migrations made: exit 0, replayed on the same server", async () => {
    const run = await check(await migrated());
    expect(run.stderr).toContain("no drift in kata_test_");
    expect(run.stderr).toContain(
      "against its migrations replayed in a scratch database on the same server",
    );
    expect(run.code).toBe(0);
  });

  it("a second check of the same history remembers the replayed catalog, and says so", async () => {
    const url = await migrated();
    const own = await makeProject();
    const run = (u: string) => db(own.root, ["check", "--database"], { env: { DATABASE_URL: u } });
    const first = await run(url);
    expect(first.stderr).not.toContain("remembered");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`ALTER TABLE users ADD COLUMN nickname text`;
    await sql.end();
    const second = await run(url);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      "replayed in a scratch database on the same server (its catalog remembered from an earlier check)",
    );
    expect(errorLines(second.stderr)[0]).toBe(
      "column users.nickname: in the database, not made by its migrations (text)",
    );
  });

  it("every kind of hand edit is reported on its own line, exit 1", async () => {
    const url = await migrated();
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql.unsafe(`
      ALTER TABLE users ADD COLUMN nickname text;
      ALTER TABLE teams ALTER COLUMN name SET DEFAULT 'x';
      ALTER TABLE artifacts ALTER COLUMN path TYPE varchar(200);
      CREATE TABLE scratch_by_hand (id int PRIMARY KEY);
      DROP INDEX IF EXISTS ${(await sql`SELECT indexname FROM pg_indexes WHERE tablename = 'tasks' AND indexname NOT LIKE '%pkey' LIMIT 1`)[0]?.indexname};
      ALTER TABLE teams DROP CONSTRAINT teams_slug_check;
      DROP TRIGGER specs_set_updated_at ON specs;
      CREATE FUNCTION by_hand() RETURNS int LANGUAGE sql AS 'SELECT 1';
      ALTER TYPE team_role ADD VALUE 'intruder';
    `);
    await sql.end();
    const run = await check(url);
    expect(run.code).toBe(1);
    const lines = errorLines(run.stderr);
    expect(lines).toEqual(
      expect.arrayContaining([
        "table scratch_by_hand: in the database, not made by its migrations",
        "column users.nickname: in the database, not made by its migrations (text)",
        "column teams.name: differs: the database has text not null default 'x'::text; the migrations make text not null",
        "column artifacts.path: differs: the database has character varying(200) not null; the migrations make text not null",
        expect.stringMatching(
          /^constraint teams_slug_check: made by the migrations, missing from the database$/,
        ),
        expect.stringMatching(
          /^index tasks_\w+: made by the migrations, missing from the database$/,
        ),
        "trigger specs_set_updated_at: made by the migrations, missing from the database",
        expect.stringMatching(/^function by_hand\(\): in the database, not made by its migrations/),
        "enum team_role: differs: the database has admin, member, viewer, intruder; the migrations make admin, member, viewer",
      ]),
    );
    // The hand-made table's own primary key is not reported again.
    expect(lines.filter((l) => l.includes("scratch_by_hand"))).toHaveLength(1);
    expect(run.stderr).toMatch(/db check --database: \d+ differences in kata_test_/);
  });

  it("db status reports the drift too, and counts it as not clean", async () => {
    const url = await migrated();
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`ALTER TABLE users ADD COLUMN nickname text`;
    await sql.end();
    const run = await db(project.root, ["status", "--json"], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(1);
    const status = JSON.parse(run.stdout);
    expect(status.drift.differences).toEqual([
      "column users.nickname: in the database, not made by its migrations (text)",
    ]);
    expect(oneLineError(run)).toMatch(/1 difference\(s\) between the database and its migrations/);
  });

  it("a role that may not CREATE DATABASE: replayed in a throwaway local PostgreSQL, and says so", async () => {
    const admin = postgres(testContext().adminUrl, { max: 1, onnotice: () => {} });
    const password = randomBytes(9).toString("hex");
    const name = `kata_test_${randomBytes(6).toString("hex")}`;
    await admin.unsafe(`CREATE ROLE ${role} LOGIN NOCREATEDB PASSWORD '${password}'`);
    await admin.unsafe(`CREATE DATABASE ${name} OWNER ${role}`);
    await admin.end();
    const url = new URL(testContext().adminUrl);
    url.pathname = `/${name}`;
    databases.push(url.toString());
    url.username = role;
    url.password = password;
    await migrate({ url: url.toString() });
    // A project of its own: none of the catalogs remembered by the other tests' checks.
    const own = await makeProject();
    const run = await db(own.root, ["check", "--database"], {
      env: { DATABASE_URL: url.toString() },
    });
    expect(run.stderr).toContain(
      "against its migrations replayed in a throwaway local PostgreSQL (the role of DATABASE_URL may not CREATE DATABASE on its server)",
    );
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(password);
  }, 60_000);
});
