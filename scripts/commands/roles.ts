import { DEFAULT_APP_ROLE, setupAppRole } from "../../src/roles.ts";
import { requireOwnServer } from "../backends/ownership.ts";
import { loadConfig } from "../basics/env.ts";
import { explainPgError } from "../basics/pg.ts";
import type { Command } from "../cli/command.ts";
import { task, UsageError } from "../cli/task.ts";

export default {
  name: "roles",
  summary: "set up the app's least-privilege role (as the migration role of DATABASE_URL)",
  help: `Usage: db roles [--app NAME] [--password-env VAR]

Creates or corrects the role the application connects as (default ${DEFAULT_APP_ROLE}), run as
the migration role of DATABASE_URL, which owns the schema. Idempotent: every run revokes the
role's table privileges and grants exactly these again:
  - SELECT, INSERT, UPDATE, DELETE on the tables the app writes;
  - SELECT, INSERT only on audit_log and spec_versions (append-only);
  - no TRUNCATE, no DDL (no CREATE on the schema, owns nothing), so it cannot disable triggers,
    and NOSUPERUSER, so it cannot set session_replication_role;
  - default privileges: tables later migrations create get the same DML grants.

--app NAME          the role's name
--password-env VAR  set the role's password from environment variable VAR (never printed);
                    without it a new role has no password (set one yourself, or use certificates)`,
  flags: { string: ["app", "password-env"] },
  async run(args) {
    const config = loadConfig();
    const app = typeof args.app === "string" && args.app ? args.app : DEFAULT_APP_ROLE;
    const passwordEnv = args["password-env"];
    let password: string | undefined;
    if (passwordEnv !== undefined) {
      if (typeof passwordEnv !== "string" || !passwordEnv) {
        throw new UsageError("--password-env needs the name of an environment variable");
      }
      password = process.env[passwordEnv];
      if (!password)
        throw new UsageError(`--password-env ${passwordEnv}: that variable is empty or not set`);
    }
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
} satisfies Command;
