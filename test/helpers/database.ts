// Per-test-file databases: a clone of the migrated template, or an empty one for migrator tests.

import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, inject } from "vitest";
import { closeDb, createDb, type Database } from "../../src/client.ts";
import { withDatabase } from "../setup/global.ts";

const admin = () => postgres(inject("adminUrl"), { max: 1, onnotice: () => {} });

/** Create a database (empty, or a copy of `template`) and return its URL. */
export async function createDatabase(template?: string): Promise<string> {
  const name = `kata_test_${randomBytes(6).toString("hex")}`;
  const sql = admin();
  try {
    // WAL_LOG (PostgreSQL's default) rather than FILE_COPY: measured here on the test server
    // (fsync off), FILE_COPY took as long or longer, and it checkpoints the whole server before
    // and after each copy, which every other test file's writes then pay for (npm run bench).
    const from = template ? ` TEMPLATE ${template} STRATEGY WAL_LOG` : "";
    await sql.unsafe(`CREATE DATABASE ${name}${from}`);
  } finally {
    await sql.end();
  }
  return withDatabase(inject("adminUrl"), name);
}

export async function dropDatabase(url: string): Promise<void> {
  const sql = admin();
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await sql.end();
  }
}

export interface TestDatabase {
  url: string;
  /** Raw SQL, for asserting what the server itself does. */
  sql: postgres.Sql;
  /** The typed client. */
  db: Database;
}

/** This test file's own migrated database, created before its tests and dropped after. */
export function useMigratedDatabase(): TestDatabase {
  const handle = {} as TestDatabase;
  beforeAll(async () => {
    handle.url = await createDatabase(inject("templateDatabase"));
    handle.sql = postgres(handle.url, { max: 4, onnotice: () => {} });
    handle.db = createDb(handle.url, { max: 4 });
  });
  afterAll(async () => {
    await handle.sql?.end();
    if (handle.db) await closeDb(handle.db);
    if (handle.url) await dropDatabase(handle.url);
  });
  return handle;
}
