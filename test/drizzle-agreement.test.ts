// Our migrator against drizzle-orm's own (drizzle-orm/postgres-js/migrator, as a project using
// drizzle applies its history): on two fresh databases, the same catalog and the same rows in
// drizzle.__drizzle_migrations (id, hash, created_at) — for small synthetic folders of each shape
// found in real public drizzle-kit histories (docs/migrator.md): every migrations.prefix layout,
// a history switching layouts, older drizzle-kit's `pg` journal, breakpoints off, an idx gap with a
// stray file and a missing snapshot, timestamps out of order, function bodies. And where the two
// differ on purpose: a file drizzle would skip, a file with its own BEGIN/COMMIT.

import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as drizzleMigrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { schemaCatalog } from "../src/catalog.ts";
import { verifyIntegrity, writeIntegrityFile } from "../src/integrity.ts";
import { migrate } from "../src/migrator.ts";
import { createTestDatabase, dropTestDatabase } from "../src/testing/index.ts";
import { type FixtureEntry, writeFolder } from "./helpers/migrations-folder.ts";

const databases: string[] = [];
afterAll(async () => {
  for (const url of databases) await dropTestDatabase(url);
});
const emptyDatabase = async () => {
  const url = await createTestDatabase(null);
  databases.push(url);
  return url;
};

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** drizzle-orm's migrator, as an application runs it. */
const byDrizzle = (url: string, folder: string) =>
  withSql(url, (sql) => drizzleMigrate(drizzle(sql), { migrationsFolder: folder }));

/** The schema (public) and the bookkeeping, as both migrators leave them. */
const state = (url: string) =>
  withSql(url, async (sql) => ({
    catalog: await schemaCatalog(sql),
    records: await sql`
      SELECT id, hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id`.catch(
      () => [],
    ),
  }));

/** A folder applied by each migrator to a fresh database of its own; both states. */
async function bothWays(entries: FixtureEntry[], options?: Parameters<typeof writeFolder>[1]) {
  const folder = writeFolder(entries, options);
  expect(writeIntegrityFile(folder).findings).toEqual([]); // what `db sum FOLDER` runs
  const [theirs, ours] = [await emptyDatabase(), await emptyDatabase()];
  await byDrizzle(theirs, folder);
  const applied = (await migrate({ url: ours, folder })).applied;
  expect(applied).toEqual(entries.map((e) => e.tag));
  return { folder, theirs: await state(theirs), ours: await state(ours) };
}

const ENUM = `DO $$ BEGIN
 CREATE TYPE "public"."status" AS ENUM('open', 'done');
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;`;
const TABLE = (name: string) =>
  `CREATE TABLE "${name}" (\n\t"id" serial PRIMARY KEY NOT NULL,\n\t"status" "status" DEFAULT 'open' NOT NULL\n);`;
const FUNCTION = `CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $body$
BEGIN
  -- COMMIT; inside a comment, inside a body
  NEW.status := 'open';
  RETURN NEW;
END;
$body$ LANGUAGE plpgsql;`;
const TRIGGER = `CREATE TRIGGER tasks_touch BEFORE INSERT ON "tasks" FOR EACH ROW EXECUTE FUNCTION touch();`;
const bp = (...statements: string[]) => statements.join("\n--> statement-breakpoint\n");

describe("the same catalog and bookkeeping as drizzle-orm's migrator", () => {
  const day = (n: number) => Date.UTC(2024, 0, n);
  const cases: [string, FixtureEntry[], Parameters<typeof writeFolder>[1]?][] = [
    [
      "index layout (0000_name), enums in DO blocks, a plpgsql function and its trigger",
      [
        { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")) },
        { tag: "0001_touch", sql: bp(FUNCTION, TRIGGER) },
      ],
    ],
    [
      "timestamp layout (20240101123456_name, meta/20240101123456_snapshot.json)",
      [
        { tag: "20240101123456_init", sql: bp(ENUM, TABLE("tasks")) },
        {
          tag: "20240102080000_index",
          sql: 'CREATE INDEX "tasks_status_idx" ON "tasks" ("status");',
        },
      ],
    ],
    [
      "supabase layout (the same names; older drizzle-kit put snapshots under the index)",
      [
        { tag: "20240604162900_init", sql: bp(ENUM, TABLE("tasks")), snapshot: false },
        { tag: "20240608182155_more", sql: TABLE("boards"), snapshot: false },
      ],
    ],
    [
      "unix layout (1704067200_name)",
      [
        { tag: "1704067200_init", sql: bp(ENUM, TABLE("tasks")), when: 1704067200123 },
        { tag: "1704153600_more", sql: TABLE("boards"), when: 1704153600456 },
      ],
    ],
    [
      "none layout (_name, one shared meta/_snapshot.json)",
      [
        { tag: "_init", sql: bp(ENUM, TABLE("tasks")) },
        { tag: "_more", sql: TABLE("boards") },
      ],
    ],
    [
      "a history that switched from index to timestamp tags",
      [
        { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")) },
        { tag: "0001_more", sql: TABLE("boards") },
        { tag: "20241127105919_switched", sql: 'ALTER TABLE "boards" ADD COLUMN "title" text;' },
      ],
    ],
    [
      "older drizzle-kit's journal (version 5, dialect pg)",
      [
        { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")) },
        { tag: "0001_more", sql: TABLE("boards") },
      ],
      { dialect: "pg", version: "5" },
    ],
    [
      "breakpoints off: drizzle-kit joins a file's statements with newlines, one chunk",
      [
        { tag: "0000_init", sql: `${ENUM}\n${TABLE("tasks")}`, breakpoints: false },
        {
          tag: "0001_more",
          sql: `${TABLE("boards")}\nALTER TABLE "boards" ADD COLUMN "title" text;`,
          breakpoints: false,
        },
      ],
    ],
    [
      "timestamps out of order, on a fresh database: drizzle applies every file, in journal order",
      [
        { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")), when: day(1) },
        { tag: "0001_from_branch_b", sql: TABLE("boards"), when: day(5) },
        {
          tag: "0002_from_branch_a",
          sql: 'ALTER TABLE "boards" ADD COLUMN "a" int;',
          when: day(3),
        },
      ],
    ],
    [
      "BEGIN … END in function bodies ($$, $tag$, BEGIN ATOMIC), comments and strings",
      [
        { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")) },
        {
          tag: "0001_bodies",
          sql: bp(
            FUNCTION,
            "CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;",
            "DO $$ BEGIN PERFORM 1; END $$;",
            "COMMENT ON TABLE \"tasks\" IS 'BEGIN; COMMIT; -- not statements';",
          ),
        },
      ],
    ],
  ];

  it.each(cases)("%s", async (_, entries, options) => {
    const { theirs, ours } = await bothWays(entries, options);
    expect(ours).toEqual(theirs);
    expect(theirs.records).toHaveLength(entries.length);
  });

  it("an idx gap, a stray .sql outside the journal and a missing snapshot are db check's, not refusals", async () => {
    const entries: FixtureEntry[] = [
      { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")) },
      { tag: "0002_after_gap", sql: TABLE("boards"), idx: 2, snapshot: false },
    ];
    const { folder, theirs, ours } = await bothWays(entries, {
      extra: { "0001_stray.sql": "CREATE TABLE never_applied (id int);" },
    });
    expect(ours).toEqual(theirs);
    expect(ours.catalog.columns).not.toHaveProperty("never_applied");
    expect(
      verifyIntegrity(folder, folder)
        .filter((f) => f.layout)
        .map((f) => f.message),
    ).toEqual([
      "journal entry 0002_after_gap has idx 2, expected 1",
      `${folder}/meta/0002_snapshot.json is missing`,
      `${folder}/0001_stray.sql is not in the journal: generate migrations with \`db generate\`, never by hand`,
    ]);
  });
});

describe("where the two differ on purpose", () => {
  it("a file stamped before the newest applied one: drizzle skips it without a word, we refuse", async () => {
    const first: FixtureEntry[] = [
      { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")), when: Date.UTC(2024, 0, 1) },
      { tag: "0001_later", sql: TABLE("boards"), when: Date.UTC(2024, 0, 5) },
    ];
    const late = {
      tag: "0002_merged_late",
      sql: TABLE("merged"),
      when: Date.UTC(2024, 0, 3),
    } satisfies FixtureEntry;
    const before = writeFolder(first, { sum: true });
    const after = writeFolder([...first, late], { sum: true });
    const [theirs, ours] = [await emptyDatabase(), await emptyDatabase()];
    await byDrizzle(theirs, before);
    await migrate({ url: ours, folder: before });

    await byDrizzle(theirs, after);
    const skipped = await state(theirs);
    expect(skipped.records).toHaveLength(2);
    expect(skipped.catalog.columns).not.toHaveProperty("merged");

    await expect(migrate({ url: ours, folder: after })).rejects.toThrow(
      `refusing to migrate: journal entry 0002_merged_late is stamped before 0001_later, the newest migration applied to this database (its when ${late.when} ≤ created_at ${Date.UTC(2024, 0, 5)}): drizzle-orm's migrator and \`drizzle-kit migrate\` skip such a file without a word, so a database they migrate would never get it; give it a timestamp after 0001_later's by generating it again on top (docs/guards.md, branch collisions)`,
    );
    expect(await state(ours)).toEqual(await state(theirs));
  });

  it("a file with its own BEGIN/COMMIT: drizzle runs it inside its one transaction, we refuse it first", async () => {
    const folder = writeFolder(
      [
        { tag: "0000_init", sql: bp(ENUM, TABLE("tasks")) },
        { tag: "0001_backfill", sql: "BEGIN;\nINSERT INTO tasks DEFAULT VALUES;\nCOMMIT;" },
      ],
      { sum: true },
    );
    const [theirs, ours] = [await emptyDatabase(), await emptyDatabase()];
    await byDrizzle(theirs, folder);
    expect((await state(theirs)).records).toHaveLength(2);
    await expect(migrate({ url: ours, folder })).rejects.toThrow(
      /^refusing to migrate: .*\/0001_backfill\.sql:1 \(statement #1\) has its own `BEGIN`/,
    );
    const untouched = await state(ours);
    expect(untouched.records).toEqual([]);
    expect(untouched.catalog.columns).toEqual({});
  });
});
