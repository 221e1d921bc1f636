// The typed client: drizzle over postgres.js with the schema and relations, and the same
// snake_case mapping drizzle-kit used to generate the migrations.

import { drizzle } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import { openPostgres } from "./connection.ts";
import * as schema from "./schema/index.ts";

export interface CreateDbOptions {
  /** Connections in the pool (postgres.js default: 10). */
  max?: number;
  /** Passed through to postgres.js for anything else. */
  postgres?: postgres.Options<Record<string, postgres.PostgresType>>;
}

export function createDb(url: string, options: CreateDbOptions = {}) {
  // The connect deadline and the bounded reconnect of src/connection.ts.
  const client = openPostgres(url, { max: options.max ?? 10, ...options.postgres });
  return drizzle({ client, schema, casing: "snake_case" });
}

export type Database = ReturnType<typeof createDb>;

/** Close the pool behind a client made by createDb. */
export const closeDb = (db: Database) => db.$client.end();
