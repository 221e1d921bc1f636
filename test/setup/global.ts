// Vitest global setup: one server, one template database migrated with the real committed
// migrations; test files clone it (test/helpers/database.ts).

import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrate } from "../../src/migrator.ts";
import { startTestServer } from "./server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}

export const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

export default async function setup(project: TestProject) {
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
  };
}
