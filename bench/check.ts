// 5. `db check` on the whole tree (budget: under 0.3 s), and how it grows with the length of the
//    migration history: the same check in a throwaway copy of the checkout whose drizzle/ holds
//    3, 50 and 200 committed migrations. Also after an edit of src/schema, when drizzle-kit has to
//    judge the schema again (its verdict on unchanged files is remembered: drift-cache.ts).

import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { COMMITTED, extendHistory } from "./history.ts";
import {
  cliEnv,
  DB,
  DRIZZLE_KIT,
  type Measurement,
  median,
  ms,
  ratio,
  run,
  spread,
  table,
  timeRuns,
} from "./lib.ts";
import { git, repoCopy } from "./repo.ts";

const RUNS = 5;
const GROWTH_RUNS = 3;
const SIZES = [COMMITTED, 50, 200];
const BUDGET_MS = 300;

export const check: Measurement = {
  id: "check",
  title: "`db check` on the whole tree",
  async measure({ log }) {
    const env = cliEnv();
    // The placeholder (before the guards of issue 5) only wraps `drizzle-kit check`.
    const help = (await run(DB, ["check", "--help"], { env })).stdout;
    const placeholder = /for now/i.test(help);

    const samples: number[] = [];
    const kit: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const proc = await run(DB, ["check"], { env });
      if (proc.code !== 0) {
        throw new Error(
          `\`db check\` fails on this checkout: ${proc.stderr.trim().split("\n").pop()}`,
        );
      }
      samples.push(proc.ms);
      kit.push((await run(DRIZZLE_KIT, ["check"], { env, input: "" })).ms);
    }

    // Growth: a copy of the checkout, its history extended and committed step by step.
    const repo = await repoCopy("check");
    const db = join(repo, "scripts", "bin", "db");
    await run(db, ["--help"], { cwd: repo, env }); // its CLI bundle, not timed
    const edited: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      appendFileSync(join(repo, "src/schema/identity.ts"), `// bench: edit ${i} ${Date.now()}\n`);
      edited.push((await run(db, ["check"], { cwd: repo, env })).ms);
    }
    const growth: { n: number; samples: number[]; failure?: string }[] = [];
    for (const n of SIZES) {
      if (n > COMMITTED) {
        extendHistory(join(repo, "drizzle"), n);
        await git(repo, ["add", "-A"]);
        await git(repo, ["commit", "-q", "--no-verify", "-m", `bench: ${n} migrations`]);
      }
      const probe = await run(db, ["check"], { cwd: repo, env });
      if (probe.code !== 0) {
        growth.push({ n, samples: [], failure: probe.stderr.trim().split("\n").pop() ?? "" });
        continue;
      }
      growth.push({ n, samples: await timeRuns(GROWTH_RUNS, db, ["check"], { cwd: repo, env }) });
      log(`${n} migrations: ${ms(median(growth.at(-1)?.samples ?? []))}`);
    }

    const value = median(samples);
    const first = growth[0];
    const slope = (g: (typeof growth)[number]) =>
      first && g !== first && !g.failure && !first.failure
        ? ms((median(g.samples) - median(first.samples)) / (g.n - first.n))
        : "—";
    return {
      rows: [
        {
          measurement: `\`db check\` (whole tree${placeholder ? "; placeholder: drizzle-kit check only" : ""})`,
          value: ms(value),
          baseline: `\`drizzle-kit check\`: ${ms(median(kit))}`,
          ratio: ratio(value, median(kit)),
          budget: "< 0.3 s",
          pass: value < BUDGET_MS,
        },
        {
          measurement: "`db check` (whole tree) after an edit of src/schema",
          value: ms(median(edited)),
          baseline: `\`drizzle-kit check\`: ${ms(median(kit))}`,
          ratio: ratio(median(edited), median(kit)),
          budget: "— (information: drizzle-kit judges the schema again, ≈0.4 s of it)",
        },
      ],
      sections: [
        `### \`db check\` and the length of the history

${placeholder ? "`db check` is still the placeholder of the `db` issue (it runs `drizzle-kit check` only); these are its numbers, not the guards'.\n\n" : ""}Median of ${GROWTH_RUNS} runs of \`db check\` in a throwaway copy of the checkout whose drizzle/
holds n committed migrations (the committed ${COMMITTED}, then small synthetic ones: a table and an
index each, with snapshot, journal entry and integrity line). Per migration: the added time over
the ${COMMITTED}-migration case, divided by the migrations added.

${table(
  ["migrations", "`db check` (n, min–max)", "per added migration"],
  growth.map((g) => [String(g.n), g.failure ? `fails: ${g.failure}` : spread(g.samples), slope(g)]),
)}`,
      ],
    };
  },
};
