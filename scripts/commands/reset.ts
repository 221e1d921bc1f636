import { requireOwnServer } from "../backends/ownership.ts";
import { loadConfig, requireLocal } from "../basics/env.ts";
import { connect, explainPgError, maintenanceUrl } from "../basics/pg.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Runner } from "../cli/command.ts";
import { confirm } from "../cli/confirm.ts";
import { CliError, task } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { applyMigrations } from "./migrate.ts";
import { seedDatabase } from "./seed.ts";

export default {
  async run(args) {
    const config = loadConfig();
    requireLocal(config, "reset the database");
    // Before dropping anything: a conflicted drizzle/ could not migrate the new database.
    await refuseConflict();
    const { database } = config.postgres;
    if (["postgres", "template0", "template1"].includes(database)) {
      throw new CliError(
        `refusing to reset ${database}, a database PostgreSQL itself needs: give the project its own database in DATABASE_URL`,
      );
    }
    const { host, port } = config.postgres;
    await requireOwnServer(config);
    await confirm(
      `db reset deletes every row of database ${database} at ${host}:${port} and re-creates it with the seed data`,
      Boolean(args.yes),
    );
    return withStackLock(config, "db reset", async () => {
      await task(`Re-creating database ${database}`, async () => {
        const sql = connect(maintenanceUrl(config.postgres));
        try {
          await sql`DROP DATABASE IF EXISTS ${sql(database)} WITH (FORCE)`;
          await sql`CREATE DATABASE ${sql(database)}`;
        } catch (error) {
          throw explainPgError(error, config.postgres);
        } finally {
          await sql.end({ timeout: 1 });
        }
      });
      await applyMigrations(config);
      await seedDatabase(config);
      return 0;
    });
  },
} satisfies Runner;
