// The template database every test database is cloned from: the committed migrations applied
// once, named by a hash of those migrations, so it is reused for as long as they are unchanged
// — across runs on a server that outlives them (TEST_DATABASE_URL), and through the cached
// prepared cluster on the throwaway one (server.ts). Runs that start at once build it once: the
// builder holds an advisory lock, and a template counts only once it carries its "complete"
// comment, so one left half-built by a killed run is rebuilt, never cloned.

import { readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openPostgres } from "../connection.ts";
import { sha256 } from "../hash.ts";
import { MIGRATIONS_FOLDER, readMigrations } from "../migrations.ts";
import { migrate } from "../migrator.ts";

/**
 * The template's name for these migrations (tags, times and file hashes, in order) as this
 * migrator applies them: its own source is part of the hash (its bookkeeping is in the template).
 */
export function templateName(folder = MIGRATIONS_FOLDER): string {
  const lines = readMigrations(folder).map((m) => `${m.tag} ${m.when} ${m.hash}`);
  // migrator.ts beside the sources, migrator.js beside the built package.
  const self = fileURLToPath(import.meta.url);
  const migrator = readFileSync(join(dirname(dirname(self)), `migrator${extname(self)}`));
  return `kata_template_${sha256(`${lines.join("\n")}\n${sha256(migrator)}`).slice(0, 16)}`;
}

const COMPLETE = "kata-db test template: complete";

export const databaseUrl = (adminUrl: string, database: string) => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

/** Make sure the template exists on the server; "reused" when an earlier run made it. */
export async function ensureTemplate(
  adminUrl: string,
  folder = MIGRATIONS_FOLDER,
): Promise<{ name: string; outcome: "reused" | "migrated"; ms: number }> {
  const started = performance.now();
  const name = templateName(folder);
  const sql = openPostgres(adminUrl, { max: 1 });
  const conn = await sql.reserve();
  const done = (outcome: "reused" | "migrated") => ({
    name,
    outcome,
    ms: Math.round(performance.now() - started),
  });
  try {
    await conn`SELECT pg_advisory_lock(hashtext(${name}))`;
    const [found] = await conn<{ complete: boolean }[]>`
      SELECT shobj_description(oid, 'pg_database') IS NOT DISTINCT FROM ${COMPLETE} AS complete
      FROM pg_database WHERE datname = ${name}`;
    if (found?.complete) return done("reused");
    // Only a database of this exact name, and only one never marked complete.
    if (found) await conn.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
    await conn.unsafe(`CREATE DATABASE ${name}`);
    await migrate({ url: databaseUrl(adminUrl, name), folder });
    await conn.unsafe(`COMMENT ON DATABASE ${name} IS '${COMPLETE}'`);
    // Nobody connects to it from now on, so cloning never fails on "being accessed by other users".
    await conn.unsafe(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    return done("migrated");
  } finally {
    await conn`SELECT pg_advisory_unlock(hashtext(${name}))`.catch(() => {});
    conn.release();
    await sql.end();
  }
}
