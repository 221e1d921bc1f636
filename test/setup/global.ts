// Vitest global setup: one server, one template database migrated with the real committed
// migrations; test files clone it (test/helpers/database.ts).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrate } from "../../src/migrator.ts";
import { startTestServer } from "../../src/testing/server.ts";
import { PACKAGE_ROOT } from "../helpers/project-copy.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
    /** The `db` CLI bundled once for this run (scripts/build-cli.mjs), run by test/cli/helpers.ts. */
    cliBundle: string;
  }
}

export const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

/**
 * The CLI as scripts/bin/db runs it (one plain node process on a bundle), built once here rather
 * than by the first of many concurrent calls; tsx would cost ~0.3 s of CPU per call.
 */
function bundleCli(): { file: string; remove: () => void } {
  // Under node_modules, like scripts/bin/db's: the packages it leaves out resolve from there.
  const cache = join(PACKAGE_ROOT, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "kata-db-test-cli-"));
  const file = join(dir, "db.mjs");
  execFileSync(process.execPath, [join(PACKAGE_ROOT, "scripts", "build-cli.mjs"), file], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export default async function setup(project: TestProject) {
  const cli = bundleCli();
  project.provide("cliBundle", cli.file);
  const server = await startTestServer();
  // Unique per run, so runs sharing one TEST_DATABASE_URL server do not collide.
  const templateDatabase = `kata_template_${process.pid}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${templateDatabase}`);
  } finally {
    await admin.end();
  }
  await migrate({ url: withDatabase(server.adminUrl, templateDatabase) });
  project.provide("adminUrl", server.adminUrl);
  project.provide("templateDatabase", templateDatabase);

  return async () => {
    const cleanup = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
    await cleanup
      .unsafe(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`)
      .catch(() => {});
    await cleanup.end();
    await server.stop();
    cli.remove();
  };
}
