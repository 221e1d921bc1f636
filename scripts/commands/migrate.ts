import { join } from "node:path";
import { MIGRATIONS_FOLDER, NO_TRANSACTION_MARKER, readMigrations } from "../../src/migrations.ts";
import { migrate, migrationStatus, refusalOf } from "../../src/migrator.ts";
import { requireOwnServer } from "../backends/ownership.ts";
import { type Config, isLocalHost, loadConfig, PACKAGE_ROOT } from "../basics/env.ts";
import { explainPgError } from "../basics/pg.ts";
import {
  followCheckout,
  rememberAppliedSql,
  saveBeforeMigrating,
} from "../branches/branch-copies.ts";
import { explainRefusal } from "../branches/refusals.ts";
import type { Runner } from "../cli/command.ts";
import { CliError, info, print, task } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { squawkFiles, type Violation } from "../guards/squawk.ts";

export interface ApplyOptions {
  /**
   * `db up`: first make the local database fit this checkout (scripts/branches/branch-copies.ts),
   * and save a copy before applying anything. Never for a non-local DATABASE_URL.
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

/**
 * `db migrate --plan`: what `db migrate` would run, and squawk's findings in it. Reads only: the
 * status query takes no lock and creates nothing, not even the migrator's bookkeeping table.
 */
async function printPlan(config: Config): Promise<number> {
  const { host, port, database } = config.postgres;
  let status: Awaited<ReturnType<typeof migrationStatus>>;
  try {
    status = await migrationStatus({ url: config.postgres.url });
  } catch (error) {
    throw explainPgError(error, config.postgres);
  }
  const migrations = readMigrations(MIGRATIONS_FOLDER);
  // What `db migrate` would refuse, it refuses here too: before showing a plan it would not run.
  const refused = refusalOf(status, migrations);
  if (refused) throw new CliError(refused);
  const pending = migrations.filter((m) => status.pending.includes(m.tag));
  print(`Plan for ${database} at ${host}:${port}: ${pending.length} migration(s) to apply`);
  for (const { tag } of status.moved)
    print(`  ↷ ${tag}: applied under an earlier tag, its record moves`);
  const findings = new Map<string, Violation[]>();
  const files = (tx: boolean) =>
    pending
      .filter((m) => m.transactional === tx)
      .map((m) => join(MIGRATIONS_FOLDER, `${m.tag}.sql`));
  const ctx = { packageRoot: PACKAGE_ROOT, root: PACKAGE_ROOT };
  for (const v of [
    ...(await squawkFiles(ctx, files(true), true)),
    ...(await squawkFiles(ctx, files(false), false)),
  ]) {
    findings.set(v.file, [...(findings.get(v.file) ?? []), v]);
  }
  for (const migration of pending) {
    const file = join(MIGRATIONS_FOLDER, `${migration.tag}.sql`);
    const how = migration.transactional
      ? "in one transaction"
      : `without a transaction (${NO_TRANSACTION_MARKER})`;
    print(`\n● drizzle/${migration.tag}.sql — ${migration.statements.length} statement(s), ${how}`);
    migration.statements.forEach((statement, i) => {
      const lines = statement.split("\n");
      print(`  ${String(i + 1).padStart(2)}. ${lines[0]}`);
      for (const line of lines.slice(1)) print(`      ${line}`);
    });
    const found = findings.get(file) ?? [];
    if (found.length === 0) print("  squawk: no findings");
    for (const v of found) {
      print(
        `  squawk: line ${v.line + 1}: ${v.rule_name}: ${v.message}${v.help ? ` (${v.help})` : ""}`,
      );
    }
  }
  if (pending.length === 0) print("Nothing to apply: the database is up to date.");
  return 0;
}

export default {
  async run(args) {
    await refuseConflict(); // a conflicted drizzle/ is no history to apply (or plan)
    if (args.plan) return printPlan(loadConfig());
    await applyMigrations(loadConfig());
    return 0;
  },
} satisfies Runner;
