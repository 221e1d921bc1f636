// Synthetic migration histories: the committed drizzle/ plus small migrations appended the way
// `db generate --custom` makes them (SQL file, journal entry, snapshot chained by id/prevId,
// integrity line), so the migrators, drizzle-kit and `db check` accept them.
// test/helpers/migrations-folder.ts does the same for tests, but it registers a vitest afterAll
// when imported, which throws outside vitest; hence this copy.

import { randomUUID } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { updateSum } from "../src/integrity.ts";
import { type Journal, MIGRATIONS_FOLDER, readJournal } from "../src/migrations.ts";
import { tempDir } from "./lib.ts";

export const COMMITTED = readJournal().entries.length;

/** A small migration: one table and one index, two statements. */
const sqlFor = (name: string) =>
  [
    `CREATE TABLE "${name}" (\n\t"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,\n\t"note" text\n);`,
    `CREATE INDEX "${name}_note_idx" ON "${name}" USING btree ("note");`,
  ].join("--> statement-breakpoint\n");

/** Append migrations to `folder` (a copy of drizzle/) until it holds `total`. */
export function extendHistory(folder: string, total: number): void {
  const journalFile = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
  const snapshotFile = (tag: string) => join(folder, "meta", `${tag.split("_")[0]}_snapshot.json`);
  let last = journal.entries.at(-1);
  if (!last) throw new Error(`${journalFile} has no migrations to extend`);
  // The schema does not change (these tables are not in src/schema): each snapshot is the
  // previous one with a new id, as drizzle-kit writes for a custom migration.
  let snapshot = JSON.parse(readFileSync(snapshotFile(last.tag), "utf8"));
  for (let idx = journal.entries.length; idx < total; idx++) {
    const prefix = String(idx).padStart(4, "0");
    const tag = `${prefix}_bench_${prefix}`;
    writeFileSync(join(folder, `${tag}.sql`), sqlFor(`bench_${prefix}`));
    snapshot = { ...snapshot, id: randomUUID(), prevId: snapshot.id };
    writeFileSync(snapshotFile(tag), JSON.stringify(snapshot, null, 2));
    last = { idx, version: "7", when: last.when + 1000, tag, breakpoints: true };
    journal.entries.push(last);
  }
  writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  updateSum(folder);
}

/** A temp folder holding the committed migrations extended to `total` (at least the committed). */
export function historyFolder(total: number): string {
  const folder = tempDir(`history-${total}`);
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  if (total > COMMITTED) extendHistory(folder, total);
  return folder;
}
