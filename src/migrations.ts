// The committed migration history as files: drizzle/meta/_journal.json lists the migrations in
// order; each is drizzle/<tag>.sql with `--> statement-breakpoint` between statements.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "./hash.ts";
import { isTransactionControl, splitStatements } from "./sql-lexer.ts";

/** drizzle/ of this package: the history every database built from @kata/db follows. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

/**
 * A first-line comment that runs a migration outside a transaction, for statements PostgreSQL
 * refuses inside one (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE before PG 12, VACUUM).
 * Such a file cannot be rolled back if it fails halfway: keep it to one idempotent statement.
 */
export const NO_TRANSACTION_MARKER = "-- kata:no-transaction";

export interface JournalEntry {
  idx: number;
  version: string;
  /** Milliseconds since the epoch when generated; drizzle records it as created_at. */
  when: number;
  tag: string;
  breakpoints: boolean;
}

export interface Journal {
  version: string;
  dialect: string;
  entries: JournalEntry[];
}

export interface Migration {
  tag: string;
  when: number;
  /** SHA-256 (hex) of the file's exact bytes, as drizzle-orm's migrator computes it. */
  hash: string;
  /** The file's text, as hashed. */
  text: string;
  statements: string[];
  transactional: boolean;
}

/**
 * Does this text hold the conflict markers git writes into a file it could not merge (a
 * `<<<<<<< ours` line and its `>>>>>>> theirs` line)? Plain text, no git needed: the migrator
 * runs where there is no repository (a deploy, the Nix sandbox) and must still say why a journal
 * does not parse. scripts/guards/conflicts.ts adds what git knows (a rebase or merge under way).
 */
export function hasConflictMarkers(text: string): boolean {
  return /^<{7}(?: |$)/m.test(text) && /^>{7}(?: |$)/m.test(text);
}

export function readJournal(folder = MIGRATIONS_FOLDER): Journal {
  const file = join(folder, "meta", "_journal.json");
  let text = "";
  try {
    text = readFileSync(file, "utf8");
    return JSON.parse(text) as Journal;
  } catch (error) {
    // JSON.parse's "Expected double-quoted property name … at position 523" says nothing to a
    // person; a merge or rebase that stopped on the journal is the usual reason for it.
    const why = hasConflictMarkers(text)
      ? "it holds git conflict markers: a merge or rebase stopped on a conflict in it, resolve that first"
      : (error as Error).message;
    throw new Error(`cannot read the migration journal ${file}: ${why}`);
  }
}

/** drizzle-kit's separator between the statements of a migration file. */
export const BREAKPOINT = "--> statement-breakpoint";

/** Every migration of the journal, in journal order, read and hashed. */
export function readMigrations(folder = MIGRATIONS_FOLDER): Migration[] {
  return readJournal(folder).entries.map((entry) => {
    const file = join(folder, `${entry.tag}.sql`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new Error(`migration ${entry.tag} is in the journal but ${file} is missing`);
    }
    return {
      tag: entry.tag,
      when: entry.when,
      hash: sha256(text),
      text,
      statements: text
        .split(BREAKPOINT)
        .map((statement) => statement.trim())
        .filter((statement) => statement.length > 0),
      transactional: !text.trimStart().startsWith(NO_TRANSACTION_MARKER),
    };
  });
}

/** A top-level statement of a migration that starts or ends a transaction block. */
export interface TransactionControl {
  /** Its line in the file (1-based). */
  line: number;
  /** Its chunk between breakpoints, numbered as the migrator numbers statements (1-based). */
  statement: number;
  /** The statement, whitespace collapsed, at most 60 characters: `COMMIT`, `BEGIN WORK`. */
  text: string;
}

/**
 * The transaction control (BEGIN, COMMIT, END, ROLLBACK, ABORT, START TRANSACTION, PREPARE
 * TRANSACTION) among a transactional migration's top-level statements. The migrator runs such a
 * file in a transaction of its own, which its first COMMIT would end: whatever came after it would
 * run outside any transaction, could not be rolled back, and would be recorded on its own. Empty
 * for a file marked NO_TRANSACTION_MARKER, which may manage its own transactions.
 */
export function transactionControl(migration: Pick<Migration, "text" | "transactional">) {
  const found: TransactionControl[] = [];
  if (!migration.transactional) return found;
  const { text } = migration;
  let offset = 0;
  let statement = 0;
  // The chunks as readMigrations makes them (and as the server receives them, one at a time).
  for (const chunk of text.split(BREAKPOINT)) {
    if (chunk.trim().length > 0) statement++;
    for (const s of splitStatements(chunk)) {
      if (!isTransactionControl(s.words)) continue;
      const at = offset + s.start;
      const whole = chunk.slice(s.start, s.end).replace(/\s+/g, " ");
      found.push({
        line: text.slice(0, at).split("\n").length,
        statement,
        text: whole.length > 60 ? `${whole.slice(0, 59)}…` : whole,
      });
    }
    offset += chunk.length + BREAKPOINT.length;
  }
  return found;
}
