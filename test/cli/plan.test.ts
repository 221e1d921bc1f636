// `db migrate --plan` as a process: lists the files, statements and squawk findings of what would
// run, and changes nothing — the catalog, the bookkeeping and the list of schemas are the same
// after it as before.

import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaCatalog } from "../../src/catalog.ts";
import { readMigrations } from "../../src/migrations.ts";
import { migrate } from "../../src/migrator.ts";
import { createTestDatabase, dropTestDatabase } from "../../src/testing/index.ts";
import { db, makeProject, type Project } from "./helpers.ts";

let project: Project;
const databases: string[] = [];
beforeAll(async () => {
  project = await makeProject();
});
afterAll(async () => {
  for (const url of databases) await dropTestDatabase(url);
});

/** Everything --plan must leave as it was. */
async function everything(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const schemas = await sql`SELECT nspname FROM pg_namespace ORDER BY 1`;
    const records = await sql`
      SELECT * FROM drizzle.__drizzle_migrations ORDER BY id`.catch(() => "no bookkeeping table");
    const relations = await sql`
      SELECT c.oid, c.relname, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`;
    return { schemas, records, relations, catalog: await schemaCatalog(sql) };
  } finally {
    await sql.end();
  }
}

describe("db migrate --plan", () => {
  it("on an empty database: every file with its statements and squawk's word; nothing created", async () => {
    const url = await createTestDatabase(null);
    databases.push(url);
    const before = await everything(url);
    const run = await db(project.root, ["migrate", "--plan"], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(0);
    const migrations = readMigrations();
    expect(run.stdout).toContain(`${migrations.length} migration(s) to apply`);
    for (const m of migrations) {
      expect(run.stdout).toContain(`● drizzle/${m.tag}.sql — ${m.statements.length} statement(s)`);
    }
    expect(run.stdout).toContain('CREATE TABLE "users" (');
    expect(run.stdout).toMatch(/squawk: (no findings|line \d+: )/);
    expect(await everything(url)).toEqual(before);
  });

  it("with one pending file: only it is listed; the database is byte-for-byte as before", async () => {
    const url = await createTestDatabase(null);
    databases.push(url);
    await migrate({ url });
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const last = readMigrations().at(-1);
    await sql`DELETE FROM drizzle.__drizzle_migrations WHERE created_at = ${String(last?.when)}`;
    await sql.end();
    const before = await everything(url);
    const run = await db(project.root, ["migrate", "--plan"], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("1 migration(s) to apply");
    expect(run.stdout).toContain(`● drizzle/${last?.tag}.sql`);
    expect(await everything(url)).toEqual(before);
  });

  it("up to date: says so", async () => {
    const url = await createTestDatabase(null);
    databases.push(url);
    await migrate({ url });
    const run = await db(project.root, ["migrate", "--plan"], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Nothing to apply: the database is up to date.");
  });
});
