import { execFile } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import * as catalog from "../src/catalog.ts";
import { updateSum } from "../src/integrity.ts";
import { readMigrations } from "../src/migrations.ts";
import { MIGRATION_LOCK_TIMEOUT, migrate, migrationStatus } from "../src/migrator.ts";
import { createTestDatabase, dropTestDatabase } from "../src/testing/index.ts";
import { addMigration, copyMigrations } from "./helpers/migrations-folder.ts";

const committed = readMigrations().map((m) => m.tag);
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const databases: string[] = [];
const emptyDatabase = async () => {
  const url = await createTestDatabase(null);
  databases.push(url);
  return url;
};
afterAll(async () => {
  for (const url of databases) await dropTestDatabase(url);
});

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** Everything a migration could change, plus the bookkeeping. */
const snapshot = (url: string) =>
  withSql(url, async (sql) => ({
    columns: await catalog.columns(sql),
    constraints: await catalog.constraints(sql),
    indexes: await catalog.indexes(sql),
    enums: await catalog.enums(sql),
    triggers: await catalog.triggers(sql),
    records: await sql`SELECT id, hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id`,
  }));

describe("migrate", () => {
  it("applies every migration once, then nothing", async () => {
    const url = await emptyDatabase();
    expect((await migrate({ url })).applied).toEqual(committed);
    expect((await migrate({ url })).applied).toEqual([]);
    expect(await migrationStatus({ url })).toEqual({
      applied: committed,
      pending: [],
      modified: [],
      unknown: [],
      unknownRecords: [],
      moved: [],
    });
  });

  it("lets two migrators started at the same moment apply each migration exactly once", async () => {
    const url = await emptyDatabase();
    // A slow last migration keeps the first migrator inside the lock while the second arrives.
    const folder = copyMigrations();
    addMigration(folder, "0003_slow", "SELECT pg_sleep(0.5);");
    const results = await Promise.all([migrate({ url, folder }), migrate({ url, folder })]);
    const all = [...committed, "0003_slow"];
    expect(results.map((r) => r.applied).sort((a, b) => b.length - a.length)).toEqual([all, []]);
    const records = await withSql(url, (sql) => sql`SELECT hash FROM drizzle.__drizzle_migrations`);
    expect(records).toHaveLength(all.length);
    expect(new Set(records.map((r) => r.hash)).size).toBe(all.length);
  });

  it("lets two `db migrate` processes started together both exit 0, applying each file once", async () => {
    const url = await emptyDatabase();
    const project = mkdtempSync(join(tmpdir(), "kata-migrate-"));
    const run = () =>
      promisify(execFile)(join(process.cwd(), "scripts", "bin", "db"), ["migrate"], {
        env: { ...process.env, KATA_DB_ROOT: project, DATABASE_URL: url },
      });
    try {
      // Both resolve only when the process exits 0 (execFile rejects otherwise).
      const outputs = await Promise.all([run(), run()]);
      expect(outputs.map((o) => o.stderr).join("")).toMatch(/Applied 3 migrations/);
      const records = await withSql(
        url,
        (sql) =>
          sql`SELECT hash, count(*)::int AS n FROM drizzle.__drizzle_migrations GROUP BY hash`,
      );
      expect(records.map((r) => r.n)).toEqual(committed.map(() => 1));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("rolls a failing file back completely and names the file and the statement", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    const before = await snapshot(url);
    const folder = copyMigrations();
    addMigration(
      folder,
      "0003_broken",
      [
        "CREATE TABLE half_done (id int);",
        "ALTER TABLE users ADD COLUMN nickname text;",
        "INSERT INTO half_done VALUES (1);",
        "ALTER TABLE no_such_table ADD COLUMN x int;",
      ].join("\n--> statement-breakpoint\n"),
    );
    await expect(migrate({ url, folder })).rejects.toThrow(
      /migration 0003_broken failed at statement #4 \(ALTER TABLE no_such_table ADD COLUMN x int;\): relation "no_such_table" does not exist \[42P01\]; rolled back/,
    );
    expect(await snapshot(url)).toEqual(before);
  });

  it("refuses a folder that fails its integrity file, before connecting", async () => {
    const folder = copyMigrations();
    appendFileSync(join(folder, "0001_tables.sql"), "\n-- an innocent-looking edit\n");
    // An unreachable URL: the refusal must come before any connection attempt. The message names
    // the folder migrated, not this package's drizzle/.
    await expect(migrate({ url: "postgres://nobody@127.0.0.1:1/none", folder })).rejects.toThrow(
      new RegExp(
        `^refusing to migrate: ${escaped(folder)}/0001_tables\\.sql changed after it was committed`,
      ),
    );
  });

  it("names the folder it migrates in its messages, and how to record one db generate did not write", async () => {
    const folder = copyMigrations();
    rmSync(join(folder, "migrations.sum"));
    await expect(migrate({ url: "postgres://nobody@127.0.0.1:1/none", folder })).rejects.toThrow(
      `refusing to migrate: ${folder}/migrations.sum is missing: it is written by \`db generate\`; restore it from git (for a folder \`db generate\` did not write, create it with \`db sum ${folder}\`: docs/migrator.md)`,
    );
  });

  it("numbers statements by position: the third of three identical ones is #3", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    const folder = copyMigrations();
    const same = "INSERT INTO once VALUES (1);";
    addMigration(
      folder,
      "0003_repeated",
      ["CREATE TABLE once (id int UNIQUE);", same, same, same].join("\n--> statement-breakpoint\n"),
    );
    await expect(migrate({ url, folder })).rejects.toThrow(
      /migration 0003_repeated failed at statement #3 \(INSERT INTO once VALUES \(1\);\): duplicate key value violates unique constraint "once_id_key" \[23505\]; rolled back/,
    );
  });

  describe("a transactional file with its own BEGIN/COMMIT", () => {
    const ownTransaction = [
      "-- Custom SQL migration file, put your code below! --",
      "CREATE TABLE before_commit (id int);",
      "--> statement-breakpoint",
      "BEGIN;",
      "INSERT INTO before_commit VALUES (1);",
      "COMMIT;",
    ].join("\n");

    it("is refused before anything runs, naming the file, the statement and both fixes", async () => {
      const url = await emptyDatabase();
      await migrate({ url });
      const folder = copyMigrations();
      addMigration(folder, "0003_fine", "CREATE TABLE fine (id int);");
      addMigration(folder, "0004_own_transaction", ownTransaction);
      addMigration(folder, "0005_later", "CREATE TABLE later (id int);");
      const before = await snapshot(url);
      const refused = migrate({ url, folder });
      await expect(refused).rejects.toThrow(
        `refusing to migrate: ${folder}/0004_own_transaction.sql:4 (statement #2) has its own \`BEGIN\`, which would end the transaction the migrator runs the file in (what follows it could not be rolled back, and the file would be recorded apart from it): remove the file's BEGIN/COMMIT statements, or put \`-- kata:no-transaction\` on its first line to run it without a transaction`,
      );
      await expect(refused).rejects.toMatchObject({
        file: "0004_own_transaction",
        statement: "BEGIN",
      });
      // Not even the pending file before it ran.
      expect(await snapshot(url)).toEqual(before);
    });

    it("runs when marked to run without a transaction", async () => {
      const url = await emptyDatabase();
      await migrate({ url });
      const folder = copyMigrations();
      addMigration(folder, "0003_own_transaction", `-- kata:no-transaction\n${ownTransaction}`);
      expect((await migrate({ url, folder })).applied).toEqual(["0003_own_transaction"]);
      expect(await withSql(url, (sql) => sql`SELECT id FROM before_commit`)).toEqual([{ id: 1 }]);
    });

    it("is not refused where it is applied already (by drizzle-kit): later files still run", async () => {
      const url = await emptyDatabase();
      await migrate({ url });
      const folder = copyMigrations();
      addMigration(folder, "0003_own_transaction", ownTransaction);
      const [applied] = readMigrations(folder).slice(-1);
      await withSql(url, async (sql) => {
        await sql.unsafe(
          "CREATE TABLE before_commit (id int); INSERT INTO before_commit VALUES (1)",
        );
        await sql`INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
                  VALUES (${applied?.hash ?? ""}, ${applied?.when ?? 0})`;
      });
      addMigration(folder, "0004_next", "CREATE TABLE next_one (id int);");
      expect((await migrate({ url, folder })).applied).toEqual(["0004_next"]);
    });

    it("is not a function body's BEGIN … END", async () => {
      const url = await emptyDatabase();
      await migrate({ url });
      const folder = copyMigrations();
      addMigration(
        folder,
        "0003_function",
        [
          "CREATE FUNCTION touch() RETURNS trigger AS $body$",
          "BEGIN",
          "  NEW.name := NEW.name; -- COMMIT; here is a comment",
          "  RETURN NEW;",
          "END;",
          "$body$ LANGUAGE plpgsql;",
          "--> statement-breakpoint",
          "CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;",
        ].join("\n"),
      );
      expect((await migrate({ url, folder })).applied).toEqual(["0003_function"]);
    });
  });

  it("refuses when an applied migration's hash differs from the file, before applying anything", async () => {
    // Someone edited an applied file and rewrote the integrity file to match: the database's
    // record still tells.
    const url = await emptyDatabase();
    await migrate({ url });
    const folder = copyMigrations();
    appendFileSync(join(folder, "0001_tables.sql"), "\n-- an innocent-looking edit\n");
    updateSum(folder, new Set(["0001_tables"]));
    addMigration(folder, "0003_next", "CREATE TABLE next_one (id int);");
    const before = await snapshot(url);
    await expect(migrate({ url, folder })).rejects.toThrow(
      /refusing to migrate: applied migration 0001_tables changed since it was applied/,
    );
    expect(await snapshot(url)).toEqual(before);
    expect((await migrationStatus({ url, folder })).modified).toEqual(["0001_tables"]);
  });

  it("refuses when the database has applied a migration the folder does not know", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    await withSql(
      url,
      (sql) => sql`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('abc', 1)`,
    );
    await expect(migrate({ url })).rejects.toThrow(
      /refusing to migrate: the database has applied migrations this folder does not know: created_at 1/,
    );
    expect((await migrationStatus({ url })).unknown).toHaveLength(1);
  });

  it("knows a migration regenerated with the same SQL under a new tag: moves its record, applies nothing twice", async () => {
    const url = await emptyDatabase();
    const base = readMigrations().at(-1)?.when ?? 0;
    const sqlX = "CREATE TABLE from_branch (id int);\n";
    const branch = copyMigrations();
    addMigration(branch, "0003_from_branch", sqlX, base + 1000);
    await migrate({ url, folder: branch });

    // The branch rebased on main: a teammate's 0003 first, the same SQL regenerated as 0004.
    const rebased = copyMigrations();
    addMigration(rebased, "0003_teammate", "CREATE TABLE teammate (id int);\n", base + 2000);
    addMigration(rebased, "0004_from_branch", sqlX, base + 3000);
    const status = await migrationStatus({ url, folder: rebased });
    expect(status).toMatchObject({
      pending: ["0003_teammate"],
      unknown: [],
      moved: [{ tag: "0004_from_branch", from: String(base + 1000) }],
    });
    expect(status.applied).toContain("0004_from_branch");

    const lines: string[] = [];
    const { applied } = await migrate({ url, folder: rebased, log: (l) => lines.push(l) });
    expect(applied).toEqual(["0003_teammate"]);
    expect(lines.join("\n")).toMatch(/recognised 0004_from_branch by its content/);
    // The records are exactly the folder's (time and hash), which is all drizzle-kit compares.
    const records = await withSql(
      url,
      (sql) =>
        sql`SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY created_at`,
    );
    expect(records.map((r) => [r.hash, r.created_at])).toEqual(
      readMigrations(rebased).map((m) => [m.hash, String(m.when)]),
    );
    expect((await migrationStatus({ url, folder: rebased })).moved).toEqual([]);
  });

  it("applies main's migration under one regenerated on top, whose old record was stamped after it", async () => {
    // The branch generated its migration after main's teammate did (base+2500 > base+2000); the
    // collision fix generates it again on top (base+3000). The old record must not count as "the
    // newest applied" that main's migration would be stamped before.
    const url = await emptyDatabase();
    const base = readMigrations().at(-1)?.when ?? 0;
    const sqlX = "CREATE TABLE from_branch (id int);\n";
    const branch = copyMigrations();
    addMigration(branch, "0003_from_branch", sqlX, base + 2500);
    await migrate({ url, folder: branch });
    const rebased = copyMigrations();
    addMigration(rebased, "0003_teammate", "CREATE TABLE teammate (id int);\n", base + 2000);
    addMigration(rebased, "0004_from_branch", sqlX, base + 3000);
    expect((await migrate({ url, folder: rebased })).applied).toEqual(["0003_teammate"]);
    expect(await migrationStatus({ url, folder: rebased })).toMatchObject({
      pending: [],
      moved: [],
      unknown: [],
    });
  });

  it("refuses a migration stamped before the one it follows (two branches collided)", async () => {
    // drizzle-orm's migrator compares only created_at and would skip such a file silently on
    // every database that already has the later one.
    const url = await emptyDatabase();
    await migrate({ url });
    const folder = copyMigrations();
    addMigration(folder, "0003_from_a_branch", "CREATE TABLE from_branch (id int);", 1);
    await expect(migrate({ url, folder })).rejects.toThrow(
      /refusing to migrate: journal entry 0003_from_a_branch is stamped before 0002_integrity_triggers/,
    );
  });

  it("applies a file as one batch whatever its statements end in (a -- comment, no semicolon)", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    const folder = copyMigrations();
    addMigration(
      folder,
      "0003_comments",
      [
        "CREATE TABLE batched (id int) -- no semicolon, a comment last",
        "INSERT INTO batched VALUES (1); -- one, then a comment",
        "/* a block comment */ INSERT INTO batched VALUES (2)",
      ].join("\n--> statement-breakpoint\n"),
    );
    expect((await migrate({ url, folder })).applied).toEqual(["0003_comments"]);
    const sql = postgres(url, { max: 1 });
    try {
      expect(await sql`SELECT id FROM batched ORDER BY id`).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await sql.end();
    }
  });

  it("runs every file under the migrator's lock_timeout, so it cannot stall the app", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    const folder = copyMigrations();
    const assertTimeout = `DO $$ BEGIN
      IF current_setting('lock_timeout') <> '${MIGRATION_LOCK_TIMEOUT}' THEN
        RAISE EXCEPTION 'lock_timeout is %', current_setting('lock_timeout');
      END IF;
    END $$;`;
    addMigration(folder, "0003_in_transaction", assertTimeout);
    addMigration(folder, "0004_outside", `-- kata:no-transaction\n${assertTimeout}`);
    expect((await migrate({ url, folder })).applied).toEqual([
      "0003_in_transaction",
      "0004_outside",
    ]);
  });

  it("runs a file marked kata:no-transaction outside a transaction", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    const folder = copyMigrations();
    addMigration(
      folder,
      "0003_concurrent_index",
      "-- kata:no-transaction\nCREATE INDEX CONCURRENTLY users_name_idx ON users (name);",
    );
    expect((await migrate({ url, folder })).applied).toEqual(["0003_concurrent_index"]);
  });
});

describe("agreement with drizzle-kit migrate", () => {
  const drizzleKitMigrate = async (url: string) => {
    const dir = copyMigrations();
    const config = join(dir, "drizzle.config.mjs");
    writeFileSync(
      config,
      `export default ${JSON.stringify({ dialect: "postgresql", out: dir, dbCredentials: { url } })};`,
    );
    const bin = join(process.cwd(), "node_modules", ".bin", "drizzle-kit");
    return promisify(execFile)(bin, ["migrate", "--config", config], { cwd: dir });
  };

  it("drizzle-kit finds nothing to apply after our migrator", async () => {
    const url = await emptyDatabase();
    await migrate({ url });
    const before = await snapshot(url);
    await drizzleKitMigrate(url);
    expect(await snapshot(url)).toEqual(before);
  });

  it("our migrator finds nothing to apply after drizzle-kit", async () => {
    const url = await emptyDatabase();
    await drizzleKitMigrate(url);
    expect(await migrationStatus({ url })).toMatchObject({ applied: committed, pending: [] });
    expect((await migrate({ url })).applied).toEqual([]);
  });
});

// The hash is drizzle's: SHA-256 of the file's bytes. Checked against an independent computation.
it("records drizzle's hash of each file", async () => {
  const { createHash } = await import("node:crypto");
  const [first] = readMigrations();
  const bytes = readFileSync(join(process.cwd(), "drizzle", `${first?.tag}.sql`));
  expect(first?.hash).toBe(createHash("sha256").update(bytes.toString()).digest("hex"));
});
