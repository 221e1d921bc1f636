// A throwaway PostgreSQL server for one measurement (the test harness's: fsync off, in memory
// where there is a tmpfs), stopped by the cleanup even on failure or Ctrl-C, with an admin
// connection and new empty databases on demand. URLs of its databases: databaseUrl, the test
// harness's own.

import postgres from "postgres";
import { startTestServer } from "../src/testing/server.ts";
import { databaseUrl } from "../src/testing/template.ts";
import { onCleanup } from "./lib.ts";

export async function throwawayServer(label: string) {
  const server = await startTestServer();
  const stopServer = onCleanup(`${label}'s test server`, () => server.stop());
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  const closeAdmin = onCleanup(`${label}'s admin connection`, () => admin.end());
  let counter = 0;
  return {
    admin,
    /** The URL of a database on this server, as its superuser. */
    url: (database: string) => databaseUrl(server.adminUrl, database),
    /** A new empty database, `<prefix>_<n>`; its URL. */
    async freshDatabase(prefix: string): Promise<string> {
      const name = `${prefix}_${counter++}`;
      await admin.unsafe(`CREATE DATABASE ${name}`);
      return databaseUrl(server.adminUrl, name);
    },
    /** Now rather than at the end: the next part of the measurement has the machine alone. */
    async stop(): Promise<void> {
      await closeAdmin();
      await stopServer();
    },
  };
}
