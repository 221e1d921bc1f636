import { migrate, migrationStatus } from "../../src/migrator.ts";
import { followCheckout, rememberAppliedSql, saveBeforeMigrating } from "../lib/branch-copies.ts";
import type { Command } from "../lib/command.ts";
import { type Config, isLocalHost, loadConfig } from "../lib/env.ts";
import { requireOwnServer } from "../lib/ownership.ts";
import { explainPgError } from "../lib/pg.ts";
import { explainRefusal } from "../lib/refusals.ts";
import { CliError, info, task } from "../lib/task.ts";

export interface ApplyOptions {
  /**
   * `db up`: first make the local database fit this checkout (scripts/lib/branch-copies.ts), and
   * save a copy before applying anything. Never for a non-local DATABASE_URL.
   */
  follow?: boolean;
}

/** Apply pending migrations as one step; shared by up, migrate and reset. */
export async function applyMigrations(config: Config, opts: ApplyOptions = {}): Promise<string[]> {
  const { host, port, database } = config.postgres;
  const local = isLocalHost(host);
  return task(`Migrating ${database} at ${host}:${port}`, async (step) => {
    try {
      await requireOwnServer(config);
      if (opts.follow && local) {
        await followCheckout(config);
        const status = await migrationStatus({ url: config.postgres.url });
        const work = status.pending.length + status.moved.length;
        if (work > 0 && status.applied.length > 0) await saveBeforeMigrating(config);
      }
      const { applied } = await migrate({ url: config.postgres.url, log: info });
      if (local) rememberAppliedSql(config);
      step.done(
        applied.length > 0
          ? `Applied ${applied.length} migration${applied.length === 1 ? "" : "s"} to ${database}`
          : `Migrations of ${database} up to date`,
      );
      return applied;
    } catch (error) {
      if ((error as { code?: string }).code === "42501") {
        throw new CliError(
          `the role ${config.postgres.user} of DATABASE_URL has too little privilege to migrate (${(error as Error).message.split("\n")[0]}): migrate as the role that owns the schema, not the app's role`,
          1,
          error,
        );
      }
      throw explainPgError(await explainRefusal(error, config), config.postgres);
    }
  });
}

export default {
  name: "migrate",
  summary: "apply pending migrations to DATABASE_URL (local or managed)",
  help: `Usage: db migrate

Applies the pending migrations of drizzle/ to the database of DATABASE_URL, which may be any
reachable PostgreSQL. Takes an advisory lock (concurrent migrators queue), runs each file in its
own transaction, and refuses when an applied migration was modified or is unknown here (the
message names it, and where git has it). A migration regenerated with the same SQL under a new
tag is recognised as the one applied: its record moves, nothing is re-applied. On a local
database, \`db up\` also switches between branches' copies (see README).`,
  async run() {
    await applyMigrations(loadConfig());
    return 0;
  },
} satisfies Command;
