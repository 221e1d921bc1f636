import { DEFAULT_APP_ROLE, setupAppRole } from "../../src/roles.ts";
import { requireOwnServer } from "../backends/ownership.ts";
import { loadConfig } from "../basics/env.ts";
import { explainPgError } from "../basics/pg.ts";
import type { Runner } from "../cli/command.ts";
import { task } from "../cli/task.ts";
import { passwordFromEnv } from "./flags.ts";

export default {
  async run(args) {
    const config = loadConfig();
    const app = typeof args.app === "string" && args.app ? args.app : DEFAULT_APP_ROLE;
    const password = passwordFromEnv(args);
    await task(`Setting up role ${app} on ${config.postgres.database}`, async (step) => {
      try {
        await requireOwnServer(config);
        const result = await setupAppRole({ url: config.postgres.url, app, password });
        step.done(
          `Role ${app} ${result.created ? "created" : "updated"}: DML on ${result.writable.length} tables, SELECT/INSERT only on ${result.appendOnly.join(", ")}${password ? ", password set" : ""}`,
        );
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "42501") {
          throw new Error(
            `the role of DATABASE_URL may not grant on these tables (${(error as Error).message}): run \`db roles\` as the role that owns the schema (the migration role)`,
          );
        }
        throw explainPgError(error, config.postgres);
      }
    });
    return 0;
  },
} satisfies Runner;
