import { join } from "node:path";
import type { Command } from "../lib/command.ts";
import { PACKAGE_ROOT } from "../lib/env.ts";
import { interactive, sh } from "../lib/system.ts";
import { CliError, print, task, UsageError } from "../lib/task.ts";

export const DRIZZLE_KIT = join(PACKAGE_ROOT, "node_modules", ".bin", "drizzle-kit");

/**
 * Hook point for the guards issue (issue 5): after drizzle-kit wrote a migration, append its
 * line to the integrity file in drizzle/. Until then there is no integrity file to update.
 */
async function updateIntegrityFile(): Promise<void> {}

/** drizzle-kit's answer, with no terminal, to a question it needs to ask (a possible rename). */
const NEEDS_TTY = "Interactive prompts require a TTY terminal";

export default {
  name: "generate",
  summary:
    "drizzle-kit generate from src/schema (+ the integrity file); never prompts without a TTY",
  help: `Usage: db generate [--name NAME]

Generates the SQL migration for the changes in src/schema with drizzle-kit (into drizzle/ of this
package) and updates the integrity file. When drizzle-kit must ask a question (is this a rename?)
and there is no terminal, it fails with a message instead of silently writing nothing.

--name NAME  the migration's name, e.g. add_team_quota (drizzle-kit picks one otherwise)`,
  flags: { string: ["name"] },
  async run(args) {
    if (
      args.name !== undefined &&
      (typeof args.name !== "string" || !/^[a-z0-9_]+$/.test(args.name))
    ) {
      throw new UsageError("--name takes lowercase letters, digits and _ (e.g. add_team_quota)");
    }
    const command = ["generate", ...(args.name ? ["--name", args.name] : [])];
    if (process.stdin.isTTY && process.stdout.isTTY) {
      // A person at a terminal answers drizzle-kit's questions directly.
      const code = await interactive(DRIZZLE_KIT, command);
      if (code !== 0) return code;
    } else {
      await task("drizzle-kit generate", async () => {
        // stdin closed: a prompt fails at once instead of waiting for input that never comes.
        const result = await sh({
          cwd: PACKAGE_ROOT,
          input: "",
          nothrow: true,
        })`${DRIZZLE_KIT} ${command}`;
        // drizzle-kit exits 0 here, having written nothing: the stderr line is the only sign.
        if (result.stderr.includes(NEEDS_TTY)) {
          throw new CliError(
            "drizzle-kit needs to ask whether something was renamed, and there is no terminal: run `db generate` in a terminal",
          );
        }
        if (!result.ok) throw result;
        const lines = result.stdout
          .split("\n")
          .filter((line) => /No schema changes|migration/i.test(line));
        for (const line of lines) print(line.trim());
      });
    }
    await updateIntegrityFile();
    return 0;
  },
} satisfies Command;
