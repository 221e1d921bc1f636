import { loadConfig, requireLocal } from "../basics/env.ts";
import { probePostgres } from "../basics/pg.ts";
import { copiesToPrune, dropCopies } from "../branches/branch-copies.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Runner } from "../cli/command.ts";
import { confirm } from "../cli/confirm.ts";
import { CliError, info, print } from "../cli/task.ts";

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export default {
  async run(args) {
    const config = loadConfig();
    requireLocal(config, "remove saved copies (db prune)");
    return withStackLock(config, "db prune", async () => {
      const health = await probePostgres(config.postgres.url);
      if (!health.healthy && health.code !== "3D000") {
        throw new CliError(
          `the local PostgreSQL is not running (${health.reason}): \`db up\` first`,
        );
      }
      const copies = await copiesToPrune(config, { all: Boolean(args.all), names: args._ });
      if (copies.length === 0) {
        info(
          "no saved copy to remove (`db status` lists them; `db prune --all` removes every one)",
        );
        return 0;
      }
      for (const c of copies) {
        print(
          `  ${c.name}  ${c.kind === "branch" ? "copy" : "before migrating"} of ${c.branch} at ${c.at}, saved ${c.saved.slice(0, 16).replace("T", " ")} UTC, ${mb(c.bytes)}`,
        );
      }
      const total = copies.reduce((sum, c) => sum + c.bytes, 0);
      await confirm(
        `remove ${copies.length} saved cop${copies.length === 1 ? "y" : "ies"} (${mb(total)})`,
        Boolean(args.yes),
      );
      await dropCopies(config, copies);
      return 0;
    });
  },
} satisfies Runner;
