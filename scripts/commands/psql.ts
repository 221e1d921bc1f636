import { lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import type { Command } from "../lib/command.ts";
import { isLocalHost, loadConfig } from "../lib/env.ts";
import { interactive, which } from "../lib/system.ts";
import { CliError } from "../lib/task.ts";

export default {
  name: "psql",
  summary: "open psql on DATABASE_URL (arguments go to psql)",
  help: `Usage: db psql [psql arguments…]

Opens psql on the database of DATABASE_URL; e.g. \`db psql -c 'select 1'\`. With the docker
backend it runs in the postgres container; otherwise psql comes from PATH (the password is
passed in PGPASSWORD, never on the command line).`,
  passThrough: true,
  async run(args) {
    const config = loadConfig();
    const backend = lastBackend(config);
    const client =
      backend && isLocalHost(config.postgres.host) ? backends[backend].client : undefined;
    if (client) return client(config, "postgres", args._);
    const psql = which("psql");
    if (!psql) {
      throw new CliError(
        "psql is not on PATH: install the PostgreSQL client (Debian/Ubuntu: apt-get install postgresql-client; macOS: brew install libpq), or enter the Nix shell (nix develop)",
      );
    }
    const url = new URL(config.postgres.url);
    url.password = "";
    return interactive(psql, [url.toString(), ...args._], { PGPASSWORD: config.postgres.password });
  },
} satisfies Command;
