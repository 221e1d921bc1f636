import { requireOwnServer } from "../backends/ownership.ts";
import { type Config, loadConfig } from "../basics/env.ts";
import { explainPgError } from "../basics/pg.ts";
import type { Runner } from "../cli/command.ts";
import { task } from "../cli/task.ts";

/** Insert the development data (src/testing/seed.ts); rows already there are left alone. */
export async function seedDatabase(config: Config): Promise<void> {
  // Loaded here, not at the top: drizzle and the schema double the start-up time of every
  // other command, and `db up` has to be fast.
  const [{ createDb, closeDb }, { seed }] = await Promise.all([
    import("../../src/client.ts"),
    import("../../src/testing/seed.ts"),
  ]);
  const { database } = config.postgres;
  await task(`Seeding ${database}`, async (step) => {
    await requireOwnServer(config);
    const db = createDb(config.postgres.url, { max: 1 });
    try {
      const total = await seed(db);
      step.done(
        total > 0
          ? `Seeded ${database}: ${total} rows`
          : `Seed data of ${database} already present`,
      );
    } catch (error) {
      throw explainPgError(error, config.postgres);
    } finally {
      await closeDb(db);
    }
  });
}

export default {
  async run() {
    await seedDatabase(loadConfig());
    return 0;
  },
} satisfies Runner;
