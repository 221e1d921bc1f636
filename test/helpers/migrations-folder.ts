// Throwaway copies of drizzle/ with extra or edited migrations, for migrator and guard tests.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { updateSum } from "../../src/integrity.ts";
import { type Journal, MIGRATIONS_FOLDER } from "../../src/migrations.ts";
import { atFileEnd } from "./file-end.ts";

/** A copy of the committed migrations in a fresh temp folder. */
export function copyMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), "kata-migrations-"));
  atFileEnd(() => rmSync(dir, { recursive: true, force: true }));
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

export interface FixtureEntry {
  tag: string;
  sql: string;
  /** Default: a second after the previous one, from 2024-01-01. */
  when?: number;
  /** Default: its position. */
  idx?: number;
  /** Default true; drizzle-kit joins statements with a newline when false. */
  breakpoints?: boolean;
  /** Default true: write meta/<prefix>_snapshot.json. */
  snapshot?: boolean;
}

/**
 * A drizzle-kit folder written from scratch, as another project's history would be: SQL files,
 * meta/_journal.json and snapshots (stand-ins: only their presence and bytes matter here), no
 * integrity file unless `sum` is set.
 */
export function writeFolder(
  entries: FixtureEntry[],
  options: {
    dialect?: string;
    version?: string;
    sum?: boolean;
    /** More files, by name in the folder (e.g. a stray .sql outside the journal). */
    extra?: Record<string, string>;
  } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), "kata-history-"));
  atFileEnd(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "meta"));
  const version = options.version ?? "7";
  let when = Date.UTC(2024, 0, 1);
  const journal: Journal = {
    version,
    dialect: options.dialect ?? "postgresql",
    entries: entries.map((e, position) => {
      when = e.when ?? when + 1000;
      return {
        idx: e.idx ?? position,
        version,
        when,
        tag: e.tag,
        breakpoints: e.breakpoints ?? true,
      };
    }),
  };
  writeFileSync(join(dir, "meta", "_journal.json"), JSON.stringify(journal, null, 2));
  for (const e of entries) {
    writeFileSync(join(dir, `${e.tag}.sql`), e.sql);
    if (e.snapshot !== false) {
      const name = `${e.tag.split("_")[0]}_snapshot.json`;
      writeFileSync(
        join(dir, "meta", name),
        JSON.stringify({ id: e.tag, version, dialect: "postgresql" }),
      );
    }
  }
  for (const [name, text] of Object.entries(options.extra ?? {}))
    writeFileSync(join(dir, name), text);
  if (options.sum) updateSum(dir);
  return dir;
}
