import { existsSync } from "node:fs";
import { join } from "node:path";
import { lastBackend } from "../backends/backend.ts";
import { isLocalHost, loadConfig, PACKAGE_ROOT, projectRoot } from "../basics/env.ts";
import { findRepo, git } from "../basics/git.ts";
import { probePostgres } from "../basics/pg.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import { stderrColour as colour } from "../cli/colour.ts";
import type { Runner } from "../cli/command.ts";
import { info, say } from "../cli/task.ts";
import { findConflict } from "../guards/conflicts.ts";
import { applyMigrations } from "./migrate.ts";

/** A rebase or cherry-pick checks out commits on its way: follow only where it ends. */
async function midRebase(): Promise<boolean> {
  const repo = await findRepo(PACKAGE_ROOT);
  if (!repo) return false;
  const states = ["rebase-merge", "rebase-apply"].flatMap((state) => ["--git-path", state]);
  const paths = (await git(repo, ["rev-parse", ...states])).toString().trim().split("\n");
  return paths.some((path) => existsSync(join(repo.top, path)) || existsSync(path));
}

export default {
  async run() {
    // A conflicted drizzle/ is no history to make the database fit: the one line, and nothing
    // touched. Exit 0 all the same: the hook must not fail the checkout (or the rebase) it runs in.
    const conflict = await findConflict(PACKAGE_ROOT);
    if (conflict) {
      say(`${colour.red("✖")} ${conflict.message}`);
      return 0;
    }
    const root = projectRoot();
    if (!existsSync(join(root, ".env"))) return 0;
    const config = loadConfig(root);
    if (!isLocalHost(config.postgres.host) || !lastBackend(config)) return 0;
    if (await midRebase()) return 0;
    return withStackLock(config, "db follow", async () => {
      const health = await probePostgres(config.postgres.url);
      if (!health.healthy && health.code !== "3D000") {
        info(
          `local database not running (${health.reason}): \`db up\` will make it fit this branch`,
        );
        return 0;
      }
      await applyMigrations(config, { follow: true });
      return 0;
    });
  },
} satisfies Runner;
