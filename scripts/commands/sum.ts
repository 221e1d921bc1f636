import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { writeIntegrityFile } from "../../src/integrity.ts";
import { MIGRATIONS_FOLDER, readMigrations, transactionControl } from "../../src/migrations.ts";
import type { Runner } from "../cli/command.ts";
import { CliError, info, ok, say } from "../cli/task.ts";
import { sumFolderArg } from "./flags.ts";

export default {
  async run(args) {
    const given = sumFolderArg(args);
    const folder = resolve(given);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new CliError(`${given}: no such folder`);
    }
    if (folder === MIGRATIONS_FOLDER) {
      throw new CliError(
        `${given} is this package's drizzle/: \`db generate\` records its migrations in migrations.sum`,
      );
    }
    let written: ReturnType<typeof writeIntegrityFile>;
    try {
      written = writeIntegrityFile(folder);
    } catch (error) {
      throw new CliError(`db sum ${given}: ${(error as Error).message}`, 1, error);
    }
    const shown = given.replace(/\/+$/, "");
    for (const finding of written.findings) say(`✖ ${finding.message.replaceAll(folder, shown)}`);
    for (const migration of readMigrations(folder)) {
      const [hit] = transactionControl(migration);
      if (hit) {
        info(
          `${shown}/${migration.tag}.sql:${hit.line}: its own \`${hit.text}\` — the migrator refuses to apply this file wherever it is pending (docs/migrator.md)`,
        );
      }
    }
    if (written.findings.length > 0) {
      throw new CliError(
        `db sum: ${shown}/migrations.sum kept its lines; the files above changed since they were recorded`,
      );
    }
    ok(
      written.recorded.length > 0
        ? `Recorded ${written.recorded.length} of ${written.migrations} migrations in ${shown}/migrations.sum`
        : `${shown}/migrations.sum up to date (${written.migrations} migrations)`,
    );
    return 0;
  },
} satisfies Runner;
