import { join } from "node:path";
import { parseSum, SUM_FILE, updateSum } from "../../src/integrity.ts";
import { readJournal } from "../../src/migrations.ts";
import { PACKAGE_ROOT } from "../basics/env.ts";
import { findRepo, readBlobs, resolveCommit, treeFiles } from "../basics/git.ts";
import { interactive, sh } from "../basics/system.ts";
import type { Command } from "../cli/command.ts";
import { CliError, info, print, task, UsageError } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { drizzleKit, NEEDS_TTY } from "../guards/drift.ts";

export const DRIZZLE_KIT = drizzleKit(PACKAGE_ROOT);
const DRIZZLE_KIT_BIN = join(PACKAGE_ROOT, "node_modules", "drizzle-kit", "bin.cjs");
const ANSWERING = join(PACKAGE_ROOT, "scripts", "commands", "drizzle-kit-answers.mjs");

interface Answer {
  entity: "column" | "table";
  table?: string;
  /** Renamed from; absent: created. */
  from?: string;
  to: string;
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);

/** `--rename teams.slug=handle` (a column), `--rename teams=groups` (a table), `--create teams.handle`. */
function parseAnswers(renames: string[], creates: string[]): Answer[] {
  const name = "[A-Za-z_][A-Za-z0-9_$]*";
  return [
    ...renames.map((flag): Answer => {
      const column = new RegExp(`^(${name})\\.(${name})=(${name})$`).exec(flag);
      if (column)
        return { entity: "column", table: column[1], from: column[2], to: column[3] as string };
      const table = new RegExp(`^(${name})=(${name})$`).exec(flag);
      if (table) return { entity: "table", from: table[1], to: table[2] as string };
      throw new UsageError(
        `--rename takes table.old_column=new_column or old_table=new_table, not '${flag}'`,
      );
    }),
    ...creates.map((flag): Answer => {
      const column = new RegExp(`^(${name})\\.(${name})$`).exec(flag);
      if (column) return { entity: "column", table: column[1], to: column[2] as string };
      if (new RegExp(`^${name}$`).test(flag)) return { entity: "table", to: flag };
      throw new UsageError(`--create takes table.new_column or new_table, not '${flag}'`);
    }),
  ];
}

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
  name: "generate",
  summary:
    "drizzle-kit generate from src/schema (+ the integrity file); never prompts without a TTY",
  help: `Usage: db generate [--name NAME] [--custom] [--rename table.old=new | old=new]…

Generates the SQL migration for the changes in src/schema with drizzle-kit (into drizzle/ of this
package) and records it in drizzle/migrations.sum, the integrity file (append-only: lines of
committed migrations are never rewritten). When drizzle-kit must ask a question (is this a
rename?) and there is no terminal, it fails with a message instead of silently writing nothing.

Run it again after editing a migration that is not committed yet (a --custom one filled in, a
\`-- squawk-ignore\` added): it records the file's new hash.

--name NAME  the migration's name, e.g. add_team_quota (drizzle-kit picks one otherwise)
--custom     an empty migration to fill in by hand (SQL drizzle-kit does not generate)
--rename table.old_column=new_column, --rename old_table=new_table
             answer drizzle-kit's rename question without a terminal (repeat for several)
--create table.new_column, --create new_table
             answer it with "created, not renamed"`,
  flags: { string: ["name", "rename", "create"], boolean: ["custom"] },
  async run(args) {
    if (
      args.name !== undefined &&
      (typeof args.name !== "string" || !/^[a-z0-9_]+$/.test(args.name))
    ) {
      throw new UsageError("--name takes lowercase letters, digits and _ (e.g. add_team_quota)");
    }
    // drizzle-kit would stop on the conflicted journal's JSON; the conflict's own fix runs
    // `db generate` once drizzle/ is resolved.
    await refuseConflict();
    const command = [
      "generate",
      ...(args.name ? ["--name", args.name] : []),
      ...(args.custom ? ["--custom"] : []),
    ];
    const answers = parseAnswers(list(args.rename), list(args.create));
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
        const lines = result.stdout
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
} satisfies Command;
