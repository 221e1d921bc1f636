// The schema as the server reports it (pg_catalog), in compact comparable forms: the one
// definition of "what the schema is", for the tests (test/schema.test.ts compares it with the
// contract written out by hand), `db migrate --plan` (nothing changed) and the drift check of a
// live database (src/drift.ts: the live one against its migrations replayed).

import type postgres from "postgres";

/** table → column → "type [not null] [default …]". */
export async function columns(sql: postgres.Sql) {
  const rows = await sql<{ table: string; column: string; spec: string }[]>`
    SELECT c.relname AS table, a.attname AS column,
           format_type(a.atttypid, a.atttypmod)
             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
             || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS spec
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum`;
  const result: Record<string, Record<string, string>> = {};
  for (const row of rows) {
    result[row.table] = { ...result[row.table], [row.column]: row.spec };
  }
  return result;
}

/** constraint name → "table: definition", for primary keys, uniques, FKs and checks. */
export async function constraints(sql: postgres.Sql) {
  const rows = await sql<{ name: string; def: string }[]>`
    SELECT conname AS name, conrelid::regclass || ': ' || pg_get_constraintdef(oid) AS def
    FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f', 'c')
    ORDER BY conname`;
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

/** index name → definition. */
export async function indexes(sql: postgres.Sql) {
  const rows = await sql<{ name: string; def: string }[]>`
    SELECT indexname AS name, indexdef AS def FROM pg_indexes
    WHERE schemaname = 'public' ORDER BY indexname`;
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

/** enum name → values in order. */
export async function enums(sql: postgres.Sql) {
  const rows = await sql<{ name: string; values: string[] }[]>`
    SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS values
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
    WHERE t.typnamespace = 'public'::regnamespace
    GROUP BY t.typname ORDER BY t.typname`;
  return Object.fromEntries(rows.map((r) => [r.name, r.values]));
}

/** trigger name → definition (user triggers only, not the FK machinery). */
export async function triggers(sql: postgres.Sql) {
  const rows = await sql<{ name: string; def: string }[]>`
    SELECT tgname AS name, pg_get_triggerdef(oid) AS def FROM pg_trigger
    WHERE NOT tgisinternal ORDER BY tgname`;
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

/** function name(argument types) → its definition (pg_get_functiondef), in the public schema. */
export async function functions(sql: postgres.Sql) {
  const rows = await sql<{ name: string; def: string }[]>`
    SELECT p.oid::regprocedure::text AS name, pg_get_functiondef(p.oid) AS def
    FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
    ORDER BY 1`;
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

/** Every part of the schema above, by kind: what the drift check and the plan test compare. */
export async function schemaCatalog(sql: postgres.Sql) {
  const [c, k, i, t, f, e] = await Promise.all([
    columns(sql),
    constraints(sql),
    indexes(sql),
    triggers(sql),
    functions(sql),
    enums(sql),
  ]);
  return { columns: c, constraints: k, indexes: i, triggers: t, functions: f, enums: e };
}

export type SchemaCatalog = Awaited<ReturnType<typeof schemaCatalog>>;
