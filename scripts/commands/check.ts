import { loadConfig, PACKAGE_ROOT } from "../basics/env.ts";
import type { Runner } from "../cli/command.ts";
import { CliError, elapsed, info, ok, say } from "../cli/task.ts";
import { collisionsRule } from "../guards/collisions.ts";
import { prepare } from "../guards/context.ts";
import { drift } from "../guards/drift.ts";
import { history } from "../guards/history.ts";
import { integrity } from "../guards/integrity.ts";
import { squawk } from "../guards/squawk.ts";
import { transactions } from "../guards/transactions.ts";
import { type Finding, JOURNAL, plural, type Rule, type RuleResult, SUM } from "../guards/types.ts";
import { baseRef } from "./flags.ts";

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
  // Imported here: postgres and the replay are for this one mode, not the hook's check.
  const [{ explainPgError }, { driftCache, liveDrift }] = await Promise.all([
    import("../basics/pg.ts"),
    import("../guards/live-drift.ts"),
  ]);
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
  async run(args) {
    if (args.database) return checkDatabase();
    const base = baseRef(args);
    const started = performance.now();
    const ctx = await prepare({
      packageRoot: PACKAGE_ROOT,
      staged: Boolean(args.staged),
      base,
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
} satisfies Runner;
