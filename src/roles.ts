// The application's role, least privilege: what `db roles` sets up, run as the migration role
// (the URL's user, which owns the schema and its tables). Idempotent: every run revokes what the
// role has on the schema's tables and grants exactly this again, so it also corrects hand edits.
//
// - DML (SELECT, INSERT, UPDATE, DELETE) on the tables the app writes;
// - SELECT and INSERT only on the append-only tables (audit_log, spec_versions): their triggers
//   refuse an UPDATE too, but a privilege check comes first and cannot be switched off;
// - no TRUNCATE, REFERENCES or TRIGGER privilege, no CREATE on the schema, and no ownership:
//   so no DDL, and no ALTER TABLE … DISABLE TRIGGER (owner only); NOSUPERUSER, so no
//   `SET session_replication_role = replica` (which would skip every trigger);
// - default privileges of the migration role in the schema: tables and sequences a later
//   migration creates get the same DML grants (an append-only table must revoke UPDATE, DELETE
//   in its own migration).

import type postgres from "postgres";
import { openPostgres } from "./connection.ts";

export const DEFAULT_APP_ROLE = "kata_app";
/** Tables whose rows are never changed or removed once written. */
export const APPEND_ONLY_TABLES = ["audit_log", "spec_versions"] as const;
const SCHEMA = "public";

export interface AppRoleOptions {
  /** The migration role's URL: it must own the schema's tables (or be a superuser). */
  url: string;
  app?: string;
  /** Set the role's password (never printed); without it, a new role has none. */
  password?: string;
}

export interface AppRoleResult {
  role: string;
  created: boolean;
  /** The tables granted full DML, and the append-only ones granted SELECT, INSERT. */
  writable: string[];
  appendOnly: string[];
}

/** A string literal for a utility statement (ALTER ROLE … PASSWORD takes no parameters). */
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

export async function setupAppRole(opts: AppRoleOptions): Promise<AppRoleResult> {
  const role = opts.app ?? DEFAULT_APP_ROLE;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    throw new Error(`invalid role name "${role}": use lower-case letters, digits and _`);
  }
  const sql = openPostgres(opts.url, { max: 1, idle_timeout: 1 });
  try {
    return await sql.begin(async (tx) => {
      const id = tx(role);
      const [exists] = await tx`SELECT 1 FROM pg_roles WHERE rolname = ${role}`;
      if (!exists) await tx`CREATE ROLE ${id} LOGIN`;
      // Also on an existing role: whatever it was given by hand goes.
      await tx`ALTER ROLE ${id} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`;
      if (opts.password !== undefined) {
        await tx.unsafe(`ALTER ROLE "${role}" PASSWORD ${literal(opts.password)}`);
      }
      const tables = (
        await tx<{ name: string }[]>`
          SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ${SCHEMA} AND c.relkind IN ('r', 'p') ORDER BY 1`
      ).map((r) => r.name);
      const appendOnly = tables.filter((t) =>
        (APPEND_ONLY_TABLES as readonly string[]).includes(t),
      );
      const writable = tables.filter((t) => !appendOnly.includes(t));
      const database = tx(((await tx`SELECT current_database() AS d`)[0] as { d: string }).d);
      const schema = tx(SCHEMA);

      await tx`GRANT CONNECT ON DATABASE ${database} TO ${id}`;
      await tx`REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC`;
      await tx`REVOKE ALL ON SCHEMA ${schema} FROM ${id}`;
      await tx`GRANT USAGE ON SCHEMA ${schema} TO ${id}`;
      // The migrator's bookkeeping is not the app's.
      const [drizzle] = await tx`SELECT 1 FROM pg_namespace WHERE nspname = 'drizzle'`;
      if (drizzle) {
        await tx`REVOKE ALL ON ALL TABLES IN SCHEMA drizzle FROM ${id}`;
        await tx`REVOKE ALL ON SCHEMA drizzle FROM ${id}`;
      }
      await tx`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${id}`;
      await tx`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${id}`;
      for (const table of writable) {
        await tx`GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${tx(SCHEMA)}.${tx(table)} TO ${id}`;
      }
      for (const table of appendOnly) {
        await tx`GRANT SELECT, INSERT ON TABLE ${tx(SCHEMA)}.${tx(table)} TO ${id}`;
      }
      await tx`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${id}`;
      await alterDefaults(tx, schema, id);
      return { role, created: !exists, writable, appendOnly };
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Tables and sequences the migration role (current_user) creates later are covered too. */
async function alterDefaults(
  tx: postgres.TransactionSql,
  schema: postgres.Helper<string>,
  id: postgres.Helper<string>,
) {
  await tx`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON TABLES FROM ${id}`;
  await tx`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema}
           GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${id}`;
  await tx`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${id}`;
}
