import { recordBackend } from "../backends/backend.ts";
import { chooseBackend } from "../backends/index.ts";
import { isLocalHost, loadConfig, projectRoot } from "../basics/env.ts";
import { ensureEnvFile } from "../checkout/env-file.ts";
import { recordCheckout } from "../checkout/identity.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Runner } from "../cli/command.ts";
import { CliError, elapsed, info, ok, print } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { backendFlag } from "./flags.ts";
import { applyMigrations } from "./migrate.ts";

export default {
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
} satisfies Runner;
