// A test file's own database (or a test's, on request): cloned from the migrated template before
// it runs, dropped after. KATA_KEEP_FAILED_DB=1 keeps the database of a file (or test) that
// failed and prints its URL, to look at what the failing code left behind.

import { randomBytes } from "node:crypto";
import type postgres from "postgres";
import { afterAll, afterEach, beforeAll, beforeEach, inject } from "vitest";
import { closeDb, createDb, type Database } from "../client.ts";
import { openPostgres } from "../connection.ts";
import { databaseUrl } from "./template.ts";

/** What the global setup hands every test file (vitest's provide/inject). */
export interface KataDbTestContext {
  /** Superuser URL of the server's maintenance database. */
  adminUrl: string;
  /** The migrated template to clone. */
  template: string;
  /** True when the server is ours (its password guards nothing): URLs are printed whole. */
  throwaway: boolean;
}

declare module "vitest" {
  export interface ProvidedContext {
    kataDb: KataDbTestContext;
  }
}

/** The server and template of this run; only inside a test file under the global setup. */
export function testContext(): KataDbTestContext {
  const context = inject("kataDb");
  if (!context) {
    throw new Error(
      'no @kata/db test server: add globalSetup: ["@kata/db/testing"] to vitest.config (test.globalSetup)',
    );
  }
  return context;
}

const admin = () => openPostgres(testContext().adminUrl, { max: 1 });

/**
 * Create a database and return its URL: a clone of the migrated template, or of `template`,
 * or an empty one with `template: null`. WAL_LOG (PostgreSQL's default strategy): FILE_COPY
 * checkpoints the whole server before and after every copy, which the other test files pay for.
 */
export async function createTestDatabase(template: string | null = testContext().template) {
  const name = `kata_test_${randomBytes(6).toString("hex")}`;
  const sql = admin();
  try {
    const from = template ? ` TEMPLATE ${template} STRATEGY WAL_LOG` : "";
    await sql.unsafe(`CREATE DATABASE ${name}${from}`);
  } finally {
    await sql.end();
  }
  return databaseUrl(testContext().adminUrl, name);
}

export async function dropTestDatabase(url: string): Promise<void> {
  const sql = admin();
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await sql.end();
  }
}

export interface TestDatabase {
  url: string;
  /** Raw SQL (postgres.js), for asserting what the server itself does. */
  sql: postgres.Sql;
  /** The typed client (createDb). */
  db: Database;
  /** How long the clone took, in milliseconds. */
  cloneMs: number;
}

export interface UseTestDatabaseOptions {
  /** "file" (default): one database for the whole file; "test": a fresh one for every test. */
  per?: "file" | "test";
  /** Connections in each pool (default 4). */
  max?: number;
}

type TaskLike = { type?: string; result?: { state?: string }; tasks?: TaskLike[] };
const failed = (task: TaskLike): boolean =>
  task.result?.state === "fail" || (task.tasks ?? []).some(failed);

/** The URL to print for a kept database: whole on our throwaway server, else without password. */
function shown(url: string): string {
  if (testContext().throwaway) return url;
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/**
 * A migrated database of this file's own (or each test's own, with `per: "test"`): the handle
 * is filled before the tests run. Register it at the top level of the file.
 */
export function useTestDatabase(options: UseTestDatabaseOptions = {}): TestDatabase {
  const handle = {} as TestDatabase;
  const max = options.max ?? 4;
  const open = async () => {
    const started = performance.now();
    handle.url = await createTestDatabase();
    handle.cloneMs = performance.now() - started;
    handle.sql = openPostgres(handle.url, { max });
    handle.db = createDb(handle.url, { max });
  };
  const close = async (keep: boolean) => {
    await handle.sql?.end();
    if (handle.db) await closeDb(handle.db);
    if (!handle.url) return;
    if (keep) console.warn(`KATA_KEEP_FAILED_DB: kept ${shown(handle.url)}`);
    else await dropTestDatabase(handle.url);
  };
  const keepFailed = process.env.KATA_KEEP_FAILED_DB === "1";
  if (options.per === "test") {
    beforeEach(open);
    afterEach((context) => close(keepFailed && failed(context.task as TaskLike)));
  } else {
    beforeAll(open);
    // vitest requires an object pattern for a hook's first parameter; the suite is the second.
    // biome-ignore lint/correctness/noEmptyPattern: vitest parses this parameter list
    afterAll(({}, suite) => close(keepFailed && failed(suite as TaskLike)));
  }
  return handle;
}
