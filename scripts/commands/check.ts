import { loadConfig, PACKAGE_ROOT } from "../basics/env.ts";
import { explainPgError } from "../basics/pg.ts";
import type { Command } from "../cli/command.ts";
import { CliError, elapsed, info, ok, say, UsageError } from "../cli/task.ts";
import { collisionsRule } from "../guards/collisions.ts";
import { findConflict } from "../guards/conflicts.ts";
import { prepare } from "../guards/context.ts";
import { drift } from "../guards/drift.ts";
import { history } from "../guards/history.ts";
import { integrity } from "../guards/integrity.ts";
import { driftCache, liveDrift } from "../guards/live-drift.ts";
import { squawk } from "../guards/squawk.ts";
import { transactions } from "../guards/transactions.ts";
import { type Finding, JOURNAL, plural, type Rule, type RuleResult, SUM } from "../guards/types.ts";

/**
 * In the order their findings are printed (they run concurrently): a branch collision first, as
 * the integrity and history findings that come with it are its consequences.
 */
const RULES: [name: string, rule: Rule][] = [
  ["collisions", collisionsRule],
  ["integrity", integrity],
  ["history", history],
  ["schema", drift],
  ["squawk", squawk],
  ["transactions", transactions],
];
const INTEGRITY = RULES.findIndex(([name]) => name === "integrity");
const HISTORY = RULES.findIndex(([name]) => name === "history");

/** A finding's identity: its kind and file, and for the journal and the sum the migration too. */
const key = (f: Finding) =>
  [JOURNAL, SUM].includes(f.file) ? `${f.kind}|${f.file}|${f.tag ?? ""}` : `${f.kind}|${f.file}`;

/**
 * One line per problem: the history rule (git: what HEAD had) and the integrity rule (what
 * migrations.sum says) often see the same change; the history one says how to undo it with git.
 */
function dedupe(results: RuleResult[]): Finding[] {
  const seen = new Set<string>();
  const historyKeys = new Set(results[HISTORY]?.findings.map(key));
  return results
    .flatMap((r, i) =>
      i === INTEGRITY ? r.findings.filter((f) => !historyKeys.has(key(f))) : r.findings,
    )
    .filter((f) => {
      const k = `${key(f)}|${f.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

/** `db check --database`: the live database against its applied migrations, replayed. */
async function checkDatabase(): Promise<number> {
  const config = loadConfig();
  let report: Awaited<ReturnType<typeof liveDrift>>;
  try {
    report = await liveDrift(config.postgres.url, { cacheDir: driftCache(config) });
  } catch (error) {
    throw explainPgError(error, config.postgres);
  }
  for (const line of report.differences) say(`✖ ${line}`);
  const where = `${config.postgres.database}, against its migrations replayed in ${report.replayedIn}`;
  if (report.differences.length === 0) {
    ok(`db check --database: no drift in ${where}`);
    return 0;
  }
  throw new CliError(
    `db check --database: ${plural(report.differences.length, "difference")} in ${where}`,
  );
}

export default {
  name: "check",
  summary: "the migration guards, for CI and the pre-commit hook (--staged: the index)",
  help: `Usage: db check [--staged] [--base REF]

Checks drizzle/ and src/schema and exits 1 on any finding, each printed on one line with the file
and the fix. Never prompts, never changes the working tree or the index; needs no database.
  collisions  no two migrations from two branches share an index or go back in time
  integrity   drizzle/ agrees with drizzle/migrations.sum; the journal is consistent
  history     migrations committed in HEAD (and REF) are unchanged: SQL, snapshot, journal
              entry, migrations.sum line — not edited, deleted, renamed or reordered
  schema      src/schema matches the latest snapshot (no schema change without a migration,
              renames included)
  squawk      new migrations hold no dangerous operation (.squawk.toml); acknowledge one on
              purpose with \`-- squawk-ignore <rule>\` on the line before the statement
  transactions  new migrations hold no BEGIN/COMMIT of their own (the migrator runs each file
              in its own transaction), unless marked \`-- kata:no-transaction\`
Without git (e.g. the Nix sandbox) history, squawk and transactions are skipped, with a note.
A merge, rebase or cherry-pick stopped on a conflict in drizzle/ (unmerged paths, or conflict
markers in a file; with --staged, staged ones) is reported instead of the rules, which cannot
judge such a tree: one line naming the files, with the commands that resolve it.

--staged    check the index (what is about to be committed), not the working tree; the schema
            and squawk rules run only when a staged path is under src/schema, drizzle/,
            drizzle.config.ts or .squawk.toml. Run by .husky/pre-commit.
--base REF  also compare with REF (e.g. origin/main), and lint every migration not in REF
--database  instead: the drift of DATABASE_URL's live schema from its applied migrations
            (replayed into a scratch database; \`db status\` reports the same), one line each`,
  flags: { boolean: ["staged", "database"], string: ["base"] },
  async run(args) {
    if (args.database) return checkDatabase();
    if (args.base !== undefined && (typeof args.base !== "string" || args.base === "")) {
      throw new UsageError("--base takes a git ref, e.g. --base origin/main");
    }
    const started = performance.now();
    // A merge or rebase stopped on a conflict in drizzle/: no rule can judge that tree, each would
    // report a consequence of it. The conflict alone, with its fix.
    const conflict = await findConflict(PACKAGE_ROOT, { staged: Boolean(args.staged) });
    if (conflict) throw new CliError(conflict.message);
    const ctx = await prepare({
      packageRoot: PACKAGE_ROOT,
      staged: Boolean(args.staged),
      base: args.base as string | undefined,
    });
    let results: RuleResult[];
    try {
      results = await Promise.all(
        RULES.map(async ([name, rule]) => {
          const at = performance.now();
          const result = await rule(ctx).catch((error: unknown) => {
            throw new CliError(`${name}: ${(error as Error).message}`, 1, error);
          });
          return { ...result, note: `${result.note} ${elapsed(performance.now() - at)}` };
        }),
      );
    } finally {
      ctx.scratch.remove();
    }

    const findings = dedupe(results);
    const what = ctx.staged ? "the staged tree" : "the working tree";
    results.forEach((result, i) => {
      const name = RULES[i]?.[0];
      if (result.skipped) info(`${name}: skipped — ${result.skipped}`);
      else if (result.findings.length === 0) ok(`${name}: ${result.note}`);
    });
    for (const finding of findings) say(`✖ ${finding.message}`);
    const time = elapsed(performance.now() - started);
    if (findings.length === 0) {
      ok(`db check: ${what} passes ${time}`);
      return 0;
    }
    const then = ctx.staged ? "; after fixing, stage the files (`git add`) and commit again" : "";
    throw new CliError(`db check: ${plural(findings.length, "finding")} in ${what}${then} ${time}`);
  },
} satisfies Command;
