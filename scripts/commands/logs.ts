import type { Service } from "../backends/backend.ts";
import { lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { loadConfig } from "../basics/env.ts";
import type { Command } from "../cli/command.ts";
import { CliError, UsageError } from "../cli/task.ts";

export default {
  name: "logs",
  summary: "show the services' logs of the active backend",
  help: `Usage: db logs [postgres|redis] [-f|--follow]

The last lines of PostgreSQL's and Redis's logs (or of the one named): .data/postgres/server.log
and .data/redis/redis.log for native and embedded, \`docker compose logs\` for docker.

-f, --follow  keep printing new lines (Ctrl-C to stop)`,
  flags: { boolean: ["follow"], alias: { f: "follow" } },
  maxArgs: 1,
  async run(args) {
    const service = args._[0];
    if (service !== undefined && service !== "postgres" && service !== "redis") {
      throw new UsageError(`unknown service '${service}': postgres or redis`);
    }
    const config = loadConfig();
    const backend = lastBackend(config);
    if (!backend) throw new CliError("no stack was started here yet: run `db up` first");
    return backends[backend].logs(config, {
      service: service as Service | undefined,
      follow: Boolean(args.follow),
    });
  },
} satisfies Command;
