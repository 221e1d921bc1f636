// Throwaway copies of drizzle/ with extra or edited migrations, for migrator and guard tests.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { updateSum } from "../../src/integrity.ts";
import { type Journal, MIGRATIONS_FOLDER } from "../../src/migrations.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the committed migrations in a fresh temp folder. */
export function copyMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), "kata-migrations-"));
  made.push(dir);
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  return dir;
}

/**
 * Append a migration as `db generate` would: SQL file, journal entry, snapshot (a copy of the
 * previous one: these migrations do not change the drizzle schema) and its integrity line.
 * `when` defaults to after the last one.
 */
export function addMigration(folder: string, tag: string, sql: string, when?: number): void {
  const journalFile = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
  const last = journal.entries.at(-1);
  journal.entries.push({
    idx: journal.entries.length,
    version: "7",
    when: when ?? (last?.when ?? 0) + 1000,
    tag,
    breakpoints: true,
  });
  writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  writeFileSync(join(folder, `${tag}.sql`), sql);
  const snapshot = (t: string) => join(folder, "meta", `${t.split("_")[0]}_snapshot.json`);
  // Two migrations with one index (a branch collision) share a snapshot file, as in drizzle.
  if (last && snapshot(last.tag) !== snapshot(tag)) cpSync(snapshot(last.tag), snapshot(tag));
  updateSum(folder);
}
