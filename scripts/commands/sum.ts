import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { writeIntegrityFile } from "../../src/integrity.ts";
import { MIGRATIONS_FOLDER, readMigrations, transactionControl } from "../../src/migrations.ts";
import type { Command } from "../cli/command.ts";
import { CliError, info, ok, say, UsageError } from "../cli/task.ts";

export default {
  name: "sum",
  summary: "write the integrity file of a migrations folder db generate did not write",
  help: `Usage: db sum FOLDER

Writes FOLDER/migrations.sum, the integrity file the migrator checks before it applies anything,
for a drizzle-kit PostgreSQL migrations folder that \`db generate\` did not write: another
project's history, a folder generated elsewhere. Then \`migrate({ url, folder: FOLDER })\` accepts
it (from code: \`writeIntegrityFile(FOLDER)\` of @kata/db does the same). See docs/migrator.md.

It records the files as they are now, so run it on a copy you trust (e.g. a known commit). Like
\`db generate\` it is append-only: a folder that has one keeps its lines and its new journal
entries get theirs; a recorded file that changed since is reported (exit 1), never recorded again.
It changes nothing else, and needs no database. This package's own drizzle/ is recorded by
\`db generate\`.

It also names the files the migrator will refuse to apply wherever they are pending (a
transactional file with its own BEGIN/COMMIT); that does not stop it.`,
  maxArgs: 1,
  async run(args) {
    const [given] = args._;
    if (!given) throw new UsageError("db sum needs the migrations folder: db sum FOLDER");
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
} satisfies Command;
