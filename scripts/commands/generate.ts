import { join } from "node:path";
import { parseSum, SUM_FILE, updateSum } from "../../src/integrity.ts";
import { readJournal } from "../../src/migrations.ts";
import { PACKAGE_ROOT } from "../basics/env.ts";
import { findRepo, readBlobs, resolveCommit, treeFiles } from "../basics/git.ts";
import { interactive, sh } from "../basics/system.ts";
import { plain } from "../cli/colour.ts";
import type { Runner } from "../cli/command.ts";
import { CliError, info, print, task } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { drizzleKit, NEEDS_TTY } from "../guards/drift.ts";
import { generateAnswers, migrationName } from "./flags.ts";

export const DRIZZLE_KIT = drizzleKit(PACKAGE_ROOT);
const DRIZZLE_KIT_BIN = join(PACKAGE_ROOT, "node_modules", "drizzle-kit", "bin.cjs");
const ANSWERING = join(PACKAGE_ROOT, "scripts", "commands", "drizzle-kit-answers.mjs");

interface Question {
  entity: string;
  name: string;
  table?: string;
  from: string[];
}

/** The one line for a rename question nobody answered: what drizzle-kit asks, and the flag. */
function unanswered(q: Question): string {
  const from = q.from.join(" or ");
  if (q.entity === "column" && q.table) {
    return `drizzle-kit asks whether column ${q.name} of table ${q.table} is new or renamed from ${from}, and there is no terminal to answer: run \`db generate --rename ${q.table}.${q.from[0]}=${q.name}\` (or \`--create ${q.table}.${q.name}\` if it is new)`;
  }
  if (q.entity === "table") {
    return `drizzle-kit asks whether table ${q.name} is new or renamed from ${from}, and there is no terminal to answer: run \`db generate --rename ${q.from[0]}=${q.name}\` (or \`--create ${q.name}\` if it is new)`;
  }
  return `drizzle-kit asks whether ${q.entity} ${q.name} is new or renamed from ${from}, and there is no terminal to answer: run \`db generate\` in a terminal`;
}
const FOLDER = join(PACKAGE_ROOT, "drizzle");

/**
 * The tags of HEAD's migrations.sum; none when it does not parse: conflict markers committed by
 * `git rebase --continue` (which runs no pre-commit hook), which `db check` says how to mend — by
 * this very command, regenerating on top of HEAD's parent and amending.
 */
function headSumTags(text: string): string[] {
  try {
    return parseSum(text).lines.map((l) => l.tag);
  } catch {
    return [];
  }
}

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
  const recorded = new Set(sum ? headSumTags(sum.toString()) : []);
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
  async run(args) {
    const name = migrationName(args);
    // drizzle-kit would stop on the conflicted journal's JSON; the conflict's own fix runs
    // `db generate` once drizzle/ is resolved.
    await refuseConflict();
    const command = [
      "generate",
      ...(name ? ["--name", name] : []),
      ...(args.custom ? ["--custom"] : []),
    ];
    const answers = generateAnswers(args);
    if (answers.length === 0 && process.stdin.isTTY && process.stdout.isTTY) {
      // A person at a terminal answers drizzle-kit's questions directly.
      const code = await interactive(DRIZZLE_KIT, command);
      if (code !== 0) return code;
    } else {
      await task("drizzle-kit generate", async () => {
        // drizzle-kit in a wrapper that answers its rename questions from --rename/--create and
        // stops at any other (scripts/commands/drizzle-kit-answers.mjs); stdin closed.
        const result = await sh({
          cwd: PACKAGE_ROOT,
          input: "",
          nothrow: true,
          env: { ...process.env, KATA_DB_ANSWERS: JSON.stringify(answers), FORCE_COLOR: "0" },
        })`${process.execPath} ${ANSWERING} ${DRIZZLE_KIT_BIN} ${command}`;
        const asked = /KATA_DB_QUESTION (\{.*\})/.exec(result.stderr)?.[1];
        if (asked) throw new CliError(unanswered(JSON.parse(asked) as Question));
        // drizzle-kit exits 0 here, having written nothing: the stderr line is the only sign.
        if (result.stderr.includes(NEEDS_TTY)) {
          throw new CliError(
            "drizzle-kit needs to ask a question, and there is no terminal: run `db generate` in a terminal",
          );
        }
        if (!result.ok) throw result;
        // hanji (drizzle-kit's prompts) writes cursor codes even to a pipe: text only.
        const lines = plain(result.stdout)
          .split("\n")
          .filter((line) =>
            /No schema changes|migration|will be renamed|will be created/i.test(line),
          );
        for (const line of lines) print(line.trim());
      });
    }
    await updateIntegrityFile();
    if (args.custom) info("Fill in the new SQL file, then run `db generate` again to record it");
    return 0;
  },
} satisfies Runner;
