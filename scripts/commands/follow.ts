import { existsSync } from "node:fs";
import { join } from "node:path";
import { chalk } from "zx/core";
import { lastBackend } from "../backends/backend.ts";
import { isLocalHost, loadConfig, PACKAGE_ROOT, projectRoot } from "../basics/env.ts";
import { findRepo, git } from "../basics/git.ts";
import { probePostgres } from "../basics/pg.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Command } from "../cli/command.ts";
import { info, say } from "../cli/task.ts";
import { findConflict } from "../guards/conflicts.ts";
import { applyMigrations } from "./migrate.ts";

/** A rebase or cherry-pick checks out commits on its way: follow only where it ends. */
async function midRebase(): Promise<boolean> {
  const repo = await findRepo(PACKAGE_ROOT);
  if (!repo) return false;
  for (const state of ["rebase-merge", "rebase-apply"]) {
    const path = (await git(repo, ["rev-parse", "--git-path", state])).toString().trim();
    if (existsSync(join(repo.top, path)) || existsSync(path)) return true;
  }
  return false;
}

export default {
  name: "follow",
  summary: "make the local database fit this checkout (git's post-checkout hook runs it)",
  help: `Usage: db follow

What \`db up\` does to the database after a branch switch, without starting anything: when the
local database has migrations this checkout does not have (or an uncommitted one was edited),
it is kept aside as its branch's copy and the copy that fits this checkout comes back; then
pending migrations are applied. .husky/post-checkout runs it after every branch checkout. Does
nothing (exit 0) when there is no local stack here, it is not running, or a rebase is under way.
With a conflict in drizzle/ (left by \`git switch --merge\`, a merge or a rebase) it says so in one
line with the commands that resolve it, and changes nothing (exit 0: a checkout never fails).`,
  async run() {
    // A conflicted drizzle/ is no history to make the database fit: the one line, and nothing
    // touched. Exit 0 all the same: the hook must not fail the checkout (or the rebase) it runs in.
    const conflict = await findConflict(PACKAGE_ROOT);
    if (conflict) {
      say(`${chalk.red("✖")} ${conflict.message}`);
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
} satisfies Command;
