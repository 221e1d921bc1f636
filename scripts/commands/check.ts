import type { Command } from "../lib/command.ts";
import { PACKAGE_ROOT } from "../lib/env.ts";
import { sh } from "../lib/system.ts";
import { CliError, task } from "../lib/task.ts";
import { DRIZZLE_KIT } from "./generate.ts";

export default {
  name: "check",
  summary:
    "consistency gate for CI and pre-commit (for now: drizzle-kit check; full guards in issue 5)",
  help: `Usage: db check [--staged]

For now runs \`drizzle-kit check\` (the consistency of drizzle/'s journal and snapshots) and exits
non-zero on a finding. The full guards — edited or deleted committed migrations, schema drift
including renames, the integrity file, dangerous operations — arrive with the guards issue
(issue 5), as does --staged (check the staged tree, for the pre-commit hook).`,
  flags: { boolean: ["staged"] },
  async run(args) {
    if (args.staged) throw new CliError("`db check --staged` arrives with the guards (issue 5)");
    await task("drizzle-kit check", async () => {
      await sh({ cwd: PACKAGE_ROOT, input: "" })`${DRIZZLE_KIT} check`;
    });
    return 0;
  },
} satisfies Command;
