import { migrate } from "../../src/migrator.ts";
import type { Command } from "../lib/command.ts";
import { type Config, loadConfig } from "../lib/env.ts";
import { explainPgError } from "../lib/pg.ts";
import { info, task } from "../lib/task.ts";

/** Apply pending migrations as one step; shared by up, migrate and reset. */
export async function applyMigrations(config: Config): Promise<string[]> {
  const { host, port, database } = config.postgres;
  return task(`Migrating ${database} at ${host}:${port}`, async (step) => {
    const { applied } = await migrate({ url: config.postgres.url, log: info }).catch((error) => {
      throw explainPgError(error, config.postgres);
    });
    step.done(
      applied.length > 0
        ? `Applied ${applied.length} migration${applied.length === 1 ? "" : "s"} to ${database}`
        : `Migrations of ${database} up to date`,
    );
    return applied;
  });
}

export default {
  name: "migrate",
  summary: "apply pending migrations to DATABASE_URL (local or managed)",
  help: `Usage: db migrate

Applies the pending migrations of drizzle/ to the database of DATABASE_URL, which may be any
reachable PostgreSQL. Takes an advisory lock (concurrent migrators queue), runs each file in its
own transaction, and refuses when an applied migration was modified or is unknown here.`,
  async run() {
    await applyMigrations(loadConfig());
    return 0;
  },
} satisfies Command;
