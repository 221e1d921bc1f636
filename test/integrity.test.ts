// drizzle/migrations.sum, verified from the folder alone (these temp copies have no .git and no
// database): each way a person might damage the history is found, named and explained.

import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSum, updateSum, verifyIntegrity } from "../src/integrity.ts";
import { type Journal, MIGRATIONS_FOLDER } from "../src/migrations.ts";
import { addMigration, copyMigrations, writeFolder } from "./helpers/migrations-folder.ts";

const journalOf = (folder: string) =>
  JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as Journal;
const writeJournal = (folder: string, journal: Journal) =>
  writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify(journal, null, 2));
const kinds = (folder: string) => verifyIntegrity(folder).map((f) => `${f.kind} ${f.file}`);

describe("the committed history", () => {
  it("is intact and fully recorded", () => {
    expect(verifyIntegrity(MIGRATIONS_FOLDER)).toEqual([]);
    expect(readSum(MIGRATIONS_FOLDER)?.map((l) => l.tag)).toEqual(
      journalOf(MIGRATIONS_FOLDER).entries.map((e) => e.tag),
    );
  });
});

describe("verifyIntegrity finds", () => {
  it("an edited SQL file, naming it", () => {
    const folder = copyMigrations();
    appendFileSync(join(folder, "0001_tables.sql"), "\n-- edited\n");
    expect(verifyIntegrity(folder)).toEqual([
      {
        kind: "edited",
        file: "drizzle/0001_tables.sql",
        message:
          "drizzle/0001_tables.sql changed after it was committed: restore it from git and put the change in a new migration (`db generate`)",
      },
    ]);
  });

  it("an edited snapshot and an edited journal entry", () => {
    const folder = copyMigrations();
    appendFileSync(join(folder, "meta", "0000_snapshot.json"), " ");
    const journal = journalOf(folder);
    const entry = journal.entries[1];
    if (entry) entry.breakpoints = false;
    writeJournal(folder, journal);
    expect(kinds(folder)).toEqual([
      "edited drizzle/meta/0000_snapshot.json",
      "edited drizzle/meta/_journal.json",
    ]);
  });

  it("a deleted migration (file and journal entry)", () => {
    const folder = copyMigrations();
    const journal = journalOf(folder);
    journal.entries.pop();
    writeJournal(folder, journal);
    rmSync(join(folder, "0002_integrity_triggers.sql"));
    expect(kinds(folder)).toEqual(["deleted drizzle/0002_integrity_triggers.sql"]);
  });

  it("a deleted SQL file whose journal entry stayed", () => {
    const folder = copyMigrations();
    rmSync(join(folder, "0001_tables.sql"));
    expect(kinds(folder)).toContain("deleted drizzle/0001_tables.sql");
  });

  it("a renamed migration", () => {
    const folder = copyMigrations();
    renameSync(join(folder, "0002_integrity_triggers.sql"), join(folder, "0002_triggers.sql"));
    const journal = journalOf(folder);
    const entry = journal.entries[2];
    if (entry) entry.tag = "0002_triggers";
    writeJournal(folder, journal);
    const [finding] = verifyIntegrity(folder);
    expect(finding?.kind).toBe("renamed");
    expect(finding?.message).toMatch(/0002_integrity_triggers was renamed to 0002_triggers/);
  });

  it("reordered journal entries", () => {
    const folder = copyMigrations();
    const journal = journalOf(folder);
    const [a, b, c] = journal.entries;
    if (!a || !b || !c) throw new Error("expected three migrations");
    journal.entries = [a, c, b];
    writeJournal(folder, journal);
    expect(kinds(folder)).toContain("reordered drizzle/meta/_journal.json");
  });

  it("a migration added by hand (not recorded) and a SQL file outside the journal", () => {
    const folder = copyMigrations();
    addMigration(folder, "0003_generated", "SELECT 1;");
    const journal = journalOf(folder);
    journal.entries.push({
      idx: 4,
      version: "7",
      when: Date.now() + 10_000,
      tag: "0004_by_hand",
      breakpoints: true,
    });
    writeJournal(folder, journal);
    writeFileSync(join(folder, "0004_by_hand.sql"), "SELECT 1;");
    writeFileSync(join(folder, "0005_stray.sql"), "SELECT 1;");
    expect(kinds(folder)).toEqual([
      "journal drizzle/meta/0004_snapshot.json",
      "journal drizzle/0005_stray.sql",
      "unrecorded drizzle/0004_by_hand.sql",
    ]);
  });

  it("an integrity file edited by hand, or missing", () => {
    const folder = copyMigrations();
    const file = join(folder, "migrations.sum");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(/sql=[0-9a-f]{64}/, `sql=${"f".repeat(64)}`),
    );
    expect(kinds(folder)[0]).toBe("sum-edited drizzle/migrations.sum");
    rmSync(file);
    expect(kinds(folder)).toEqual(["missing-sum drizzle/migrations.sum"]);
  });

  it("two branches' migrations that collided (same index or a timestamp going backwards)", () => {
    const folder = copyMigrations();
    addMigration(folder, "0003_main", "SELECT 1;");
    addMigration(folder, "0003_branch", "SELECT 2;", 5);
    const messages = verifyIntegrity(folder).map((f) => f.message);
    expect(messages).toContain(
      "journal entry 4 is 0003_branch, expected a tag starting with 0004_",
    );
    expect(messages.some((m) => m.includes("0003_branch is stamped before 0003_main"))).toBe(true);
  });
});

describe("drizzle-kit's other layouts (migrations.prefix)", () => {
  const layouts = {
    timestamp: ["20240101123456_init", "20240102080000_add_teams"],
    unix: ["1704067200_init", "1704153600_add_teams"],
    none: ["_init"],
    // A history that switched from the default to timestamps (seen in a real public one).
    mixed: ["0000_init", "0001_users", "20241127105919_switched"],
  };

  it.each(Object.entries(layouts))("%s: no finding", (_, tags) => {
    const folder = writeFolder(
      tags.map((tag) => ({ tag, sql: "SELECT 1;" })),
      { sum: true },
    );
    expect(verifyIntegrity(folder)).toEqual([]);
  });

  it("names a missing snapshot by the file the check looked for, in the folder given", () => {
    const folder = writeFolder(
      [
        { tag: "20240101123456_init", sql: "SELECT 1;" },
        { tag: "20240102080000_no_snapshot", sql: "SELECT 2;", snapshot: false },
      ],
      { sum: true },
    );
    expect(verifyIntegrity(folder, folder)).toEqual([
      {
        kind: "journal",
        file: `${folder}/meta/20240102080000_snapshot.json`,
        message: `${folder}/meta/20240102080000_snapshot.json is missing`,
        layout: true,
      },
    ]);
  });

  it("an index tag that is not its idx is still a finding, of the journal's layout", () => {
    const folder = writeFolder(
      [
        { tag: "0000_init", sql: "SELECT 1;" },
        { tag: "0002_skipped_one", sql: "SELECT 2;" },
      ],
      { sum: true },
    );
    expect(verifyIntegrity(folder)).toEqual([
      {
        kind: "journal",
        file: "drizzle/meta/_journal.json",
        message: "journal entry 1 is 0002_skipped_one, expected a tag starting with 0001_",
        layout: true,
      },
    ]);
  });
});

describe("updateSum", () => {
  it("appends new migrations and keeps recorded lines exactly", () => {
    const folder = copyMigrations();
    const before = readFileSync(join(folder, "migrations.sum"), "utf8").split("\n").slice(2, 5);
    addMigration(folder, "0003_next", "SELECT 1;");
    const after = readFileSync(join(folder, "migrations.sum"), "utf8").split("\n");
    expect(after.slice(2, 5)).toEqual(before);
    expect(after[5]).toMatch(/^0003_next sql=[0-9a-f]{64} /);
    expect(verifyIntegrity(folder)).toEqual([]);
  });

  it("never rewrites a recorded line unless asked to re-hash that migration", () => {
    const folder = copyMigrations();
    appendFileSync(join(folder, "0001_tables.sql"), "\n-- edited\n");
    expect(updateSum(folder)).toEqual([]);
    expect(kinds(folder)).toEqual(["edited drizzle/0001_tables.sql"]);
    expect(updateSum(folder, new Set(["0001_tables"]))).toEqual(["0001_tables"]);
    expect(verifyIntegrity(folder)).toEqual([]);
  });
});
