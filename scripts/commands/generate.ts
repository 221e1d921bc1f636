import { join } from "node:path";
import { parseSum, SUM_FILE, updateSum } from "../../src/integrity.ts";
import { readJournal } from "../../src/migrations.ts";
import type { Command } from "../lib/command.ts";
import { PACKAGE_ROOT } from "../lib/env.ts";
import { drizzleKit, NEEDS_TTY } from "../lib/guards/drift.ts";
import { findRepo, readBlobs, resolveCommit, treeFiles } from "../lib/guards/git.ts";
import { interactive, sh } from "../lib/system.ts";
import { CliError, info, print, task, UsageError } from "../lib/task.ts";

export const DRIZZLE_KIT = drizzleKit(PACKAGE_ROOT);
const FOLDER = join(PACKAGE_ROOT, "drizzle");

/**
 * The migrations HEAD has neither as a SQL file nor as a line of migrations.sum: not committed
 * yet, so their line may be written again (a custom migration filled in after
 * `generate --custom`, a `-- squawk-ignore` added). Without git nothing is re-hashed: lines are
 * only appended.
 */
async function uncommitted(): Promise<Set<string>> {
  const repo = await findRepo(PACKAGE_ROOT);
  if (!repo) return new Set();
  const head = await resolveCommit(repo, "HEAD");
  const files = head ? await treeFiles(repo, head, "drizzle") : new Map<string, string>();
  // A migration whose file a commit deleted is still committed history: its line stays.
  const sumId = files.get(`drizzle/${SUM_FILE}`);
  const sum = sumId ? (await readBlobs(repo, [sumId])).get(sumId) : undefined;
  const recorded = new Set(sum ? parseSum(sum.toString()).lines.map((l) => l.tag) : []);
  return new Set(
    readJournal(FOLDER)
      .entries.map((e) => e.tag)
      .filter((tag) => !files.has(`drizzle/${tag}.sql`) && !recorded.has(tag)),
  );
}

/** After drizzle-kit: append new migrations to drizzle/migrations.sum, re-hash uncommitted ones. */
async function updateIntegrityFile(): Promise<void> {
  await task(`Updating drizzle/${SUM_FILE}`, async (step) => {
    const changed = updateSum(FOLDER, await uncommitted());
    step.done(
      changed.length > 0
        ? `Recorded ${changed.join(", ")} in drizzle/${SUM_FILE}`
        : `drizzle/${SUM_FILE} up to date`,
    );
  });
}

export default {
  name: "generate",
  summary:
    "drizzle-kit generate from src/schema (+ the integrity file); never prompts without a TTY",
  help: `Usage: db generate [--name NAME] [--custom]

Generates the SQL migration for the changes in src/schema with drizzle-kit (into drizzle/ of this
package) and records it in drizzle/migrations.sum, the integrity file (append-only: lines of
committed migrations are never rewritten). When drizzle-kit must ask a question (is this a
rename?) and there is no terminal, it fails with a message instead of silently writing nothing.

Run it again after editing a migration that is not committed yet (a --custom one filled in, a
\`-- squawk-ignore\` added): it records the file's new hash.

--name NAME  the migration's name, e.g. add_team_quota (drizzle-kit picks one otherwise)
--custom     an empty migration to fill in by hand (SQL drizzle-kit does not generate)`,
  flags: { string: ["name"], boolean: ["custom"] },
  async run(args) {
    if (
      args.name !== undefined &&
      (typeof args.name !== "string" || !/^[a-z0-9_]+$/.test(args.name))
    ) {
      throw new UsageError("--name takes lowercase letters, digits and _ (e.g. add_team_quota)");
    }
    const command = [
      "generate",
      ...(args.name ? ["--name", args.name] : []),
      ...(args.custom ? ["--custom"] : []),
    ];
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
    if (args.custom) info("Fill in the new SQL file, then run `db generate` again to record it");
    return 0;
  },
} satisfies Command;
