import { currentConnectDeadline } from "../../src/connection.ts";
import { lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { notOurs } from "../backends/ownership.ts";
import { isLocalHost, loadConfig } from "../basics/env.ts";
import { probePostgres } from "../basics/pg.ts";
import { interactive, which } from "../basics/system.ts";
import type { Runner } from "../cli/command.ts";
import { CliError } from "../cli/task.ts";

export default {
  async run(args) {
    const config = loadConfig();
    // One bounded query first: a server that hangs or hangs up gives one line here, not a psql
    // waiting on it (psql has no deadline unless connect_timeout is set).
    const health = await probePostgres(config.postgres.url);
    if (!health.healthy) throw new CliError(`${health.reason}: check DATABASE_URL, or \`db up\``);
    const stranger = notOurs(config, health.clusterName);
    if (stranger)
      throw new CliError(
        `${stranger}: give this checkout its own port in DATABASE_URL (.env), then \`db up\``,
      );
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
    // psql's connection is the command's second: it gets what the probe left of the deadline,
    // rounded down, since libpq counts whole seconds and rounding up would wait past the
    // deadline. libpq waits at least 2 s (a 1 means 2): the one case that may overrun it.
    const left = currentConnectDeadline(config.postgres.url)?.leftMs();
    if (left !== undefined) {
      url.searchParams.set("connect_timeout", String(Math.max(2, Math.floor(left / 1000))));
    }
    return interactive(psql, [url.toString(), ...args._], { PGPASSWORD: config.postgres.password });
  },
} satisfies Runner;
