// The committed migration history as files: drizzle/meta/_journal.json lists the migrations in
// order; each is drizzle/<tag>.sql with `--> statement-breakpoint` between statements.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "./hash.ts";

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

export function readJournal(folder = MIGRATIONS_FOLDER): Journal {
  const file = join(folder, "meta", "_journal.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Journal;
  } catch (error) {
    throw new Error(`cannot read the migration journal ${file}: ${(error as Error).message}`);
  }
}

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
        .split("--> statement-breakpoint")
        .map((statement) => statement.trim())
        .filter((statement) => statement.length > 0),
      transactional: !text.trimStart().startsWith(NO_TRANSACTION_MARKER),
    };
  });
}
