// `npm run bench`: measures what users of @kata/db wait for, each against a floor or an alternative
// measured in the same run (the machines are shared and noisy: absolute times alone mean little),
// writes bench/results.md, prints the table and exits 1 when a budget is broken.
//
//   npm run bench                    everything (~5 minutes on 2 cores), writes bench/results.md
//   npm run bench -- --only warm,check   some measurements; prints, does not write the file
//
// One module per measurement; they run one after another, never in parallel, so that they do not
// disturb each other's timings.

import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { branchCopy } from "./branch-copy.ts";
import { check } from "./check.ts";
import { coldUp } from "./cold-up.ts";
import { hooks } from "./hooks.ts";
import { hotReads } from "./hot-reads.ts";
import { cleanup, failedRow, type Measurement, PACKAGE_ROOT, type Report, table } from "./lib.ts";
import { migrator } from "./migrator.ts";
import { migratorFixedCost } from "./migrator-fixed-cost.ts";
import { tests } from "./tests.ts";
import { warm } from "./warm.ts";

// hot-reads last: removing its ~2 GB of data keeps the disk busy for a while.
const MEASUREMENTS: Measurement[] = [
  coldUp,
  warm,
  migrator,
  migratorFixedCost,
  hooks,
  check,
  tests,
  branchCopy,
  hotReads,
];
const RESULTS = join(PACKAGE_ROOT, "bench", "results.md");

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const log = (line: string) => process.stderr.write(`[bench ${elapsed()}] ${line}\n`);

const { values } = parseArgs({ options: { only: { type: "string" } } });
const only = values.only?.split(",").map((id) => id.trim());
const unknown = only?.filter((id) => !MEASUREMENTS.some((m) => m.id === id));
if (unknown?.length) {
  console.error(
    `unknown measurement ${unknown.join(", ")}: one of ${MEASUREMENTS.map((m) => m.id).join(", ")}`,
  );
  process.exit(2);
}
const selected = MEASUREMENTS.filter((m) => !only || only.includes(m.id));

// Ctrl-C or a kill: stop the servers and remove the directories made so far, then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup(log).finally(() => process.exit(130));
  });
}

const reports: { measurement: Measurement; report: Report }[] = [];
try {
  for (const measurement of selected) {
    log(`${measurement.id}: ${measurement.title}`);
    let report: Report;
    try {
      report = await measurement.measure({ log: (line) => log(`${measurement.id}: ${line}`) });
    } catch (error) {
      // A measurement that cannot run fails the benchmark: a budget nobody measured is not met.
      log(`${measurement.id} failed: ${(error as Error).stack ?? error}`);
      report = {
        rows: [failedRow(measurement.title, `error: ${(error as Error).message.split("\n")[0]}`)],
        sections: [],
      };
    }
    reports.push({ measurement, report });
    // Each measurement's servers and files go before the next one starts.
    await cleanup(log);
  }
} finally {
  await cleanup(log);
}

const rows = reports.flatMap((r) => r.report.rows);
const failed = rows.filter((r) => r.pass === false);
const budgeted = rows.filter((r) => r.pass !== undefined);
const verdict = (pass: boolean | undefined) =>
  pass === undefined ? "—" : pass ? "pass" : "**FAIL**";
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

const summary =
  failed.length === 0
    ? `all ${budgeted.length} budgets met`
    : `${failed.length} of ${budgeted.length} budgets broken: ${failed.map((r) => r.measurement).join("; ")}`;
const cpu = cpus();
const markdown = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts). Each value is a median of several runs; each ratio is
value ÷ the floor or alternative measured in the same run, on the same machine, so that it means
something on a shared, noisy machine where absolute times do not.

Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${process.platform}-${process.arch}.

${table(
  ["measurement", "value", "floor / alternative", "ratio", "budget", "result"],
  rows.map((r) =>
    [r.measurement, r.value, r.baseline, r.ratio, r.budget, verdict(r.pass)].map(cell),
  ),
)}

**${summary}.** The whole run took ${elapsed().trim()}.

${reports.flatMap((r) => r.report.sections).join("\n\n")}
`;

process.stdout.write(`${markdown}\n`);
if (!only) {
  writeFileSync(RESULTS, markdown);
  log(`wrote ${RESULTS}`);
}
log(`${failed.length === 0 ? "PASS" : "FAIL"}: ${summary}`);
process.exit(failed.length === 0 ? 0 : 1);
