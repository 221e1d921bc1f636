// 4. What the pre-commit hook costs: a commit touching no schema file with the hooks installed
//    against the same commit with `--no-verify` (budget: under 100 ms added), and a commit of a
//    schema change with its generated migration (budget: under 0.5 s for the whole commit, with a
//    verdict drizzle-kit never gave before, and with one remembered).
// In a throwaway copy of this checkout, hooks installed the way `npm ci` installs them.

import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cliEnv,
  type Measurement,
  median,
  ms,
  mustRun,
  type Row,
  ratio,
  spread,
  table,
  timeRuns,
} from "./lib.ts";
import { git, repoCopy } from "./repo.ts";

const ROUNDS = 5;
const PARTS_RUNS = 3;
const ADDED_BUDGET_MS = 100;
const SCHEMA_BUDGET_MS = 500;

/** A TypeScript file outside src/schema: lint-staged has a file to lint, the guards nothing. */
const PLAIN_FILE = "src/client.ts";
const SCHEMA_FILE = "src/schema/identity.ts";
const SCHEMA_ANCHOR = "    slug: text().notNull(),\n";

/**
 * Time the staged change committed with the hook and with --no-verify, alternating which goes
 * first; after each commit `reset --soft` puts the same change back in the index.
 */
async function commits(repo: string, label: string) {
  const hooked: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ["bare", "hooked"] : ["hooked", "bare"];
    for (const which of order) {
      const args = ["commit", "-q", "-m", `bench: ${label}`];
      const proc = await git(repo, which === "bare" ? [...args, "--no-verify"] : args);
      (which === "bare" ? bare : hooked).push(proc.ms);
      await git(repo, ["reset", "-q", "--soft", "HEAD~1"]);
    }
  }
  return { hooked, bare };
}

/** The hooks as `npm ci` installs them: package.json's prepare script, else core.hooksPath. */
async function installHooks(repo: string): Promise<string> {
  if (existsSync(join(repo, ".husky", "install.mjs"))) {
    await mustRun(process.execPath, [".husky/install.mjs"], { cwd: repo });
  } else {
    await git(repo, ["config", "core.hooksPath", ".husky"]);
  }
  return (await git(repo, ["config", "core.hooksPath"])).stdout.trim();
}

export const hooks: Measurement = {
  id: "hooks",
  title: "commit with the pre-commit hook",
  async measure({ log }) {
    const repo = await repoCopy("hooks");
    if (!existsSync(join(repo, ".husky", "pre-commit"))) {
      // Not faked: without the hook there is nothing to measure, and the budget is not met.
      const missing = (measurement: string, budget: string): Row => ({
        measurement,
        value: "hooks not present (.husky/pre-commit missing)",
        baseline: "—",
        ratio: "—",
        budget,
        pass: false,
      });
      return {
        rows: [
          missing("commit, no schema file: added by the hook", "< 100 ms added"),
          missing("commit, schema change + migration", "< 0.5 s"),
        ],
        sections: [],
      };
    }
    const hooksPath = await installHooks(repo);
    log(`hooks installed (core.hooksPath ${hooksPath})`);

    appendFileSync(join(repo, PLAIN_FILE), "// bench: a change outside src/schema\n");
    await git(repo, ["add", PLAIN_FILE]);
    const plain = await commits(repo, "plain change");
    await git(repo, ["reset", "-q", "--hard", "HEAD"]);

    // A new nullable column and the migration `db generate` makes for it (not timed).
    const schemaFile = join(repo, SCHEMA_FILE);
    const source = readFileSync(schemaFile, "utf8");
    if (!source.includes(SCHEMA_ANCHOR))
      throw new Error(`${SCHEMA_FILE} has no "${SCHEMA_ANCHOR.trim()}"`);
    writeFileSync(
      schemaFile,
      source.replace(SCHEMA_ANCHOR, `${SCHEMA_ANCHOR}    motto: text(),\n`),
    );
    const generate = ["generate", "--name", "bench_team_motto"];
    await mustRun(join(repo, "scripts", "bin", "db"), generate, { cwd: repo, env: cliEnv() });
    await git(repo, ["add", "-A"]);
    const staged = (await git(repo, ["diff", "--cached", "--name-only"])).stdout.trim().split("\n");
    log(`schema commit stages ${staged.join(", ")}`);
    const schema = await commits(repo, "schema change");
    // The same commit with a schema drizzle-kit has never judged (a new comment each time): the
    // drift rule cannot reuse a remembered verdict (scripts/guards/drift-cache.ts). As in a real
    // commit the CLI has run since the last edit (`db generate` made the migration), so its
    // bundle of the current sources exists: an untimed `db --help` builds it. "Rebuilt": the
    // same without it, as when the schema is edited after the last `db` call (the hook once
    // bundled the CLI first then; now the bundle of the same code with the previous schema runs,
    // scripts/bin/db: only `db seed` and `db reset` hold src/schema).
    const db = join(repo, "scripts", "bin", "db");
    const fresh: number[] = [];
    const rebuilt: number[] = [];
    const floor: number[] = [];
    const freshBare: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const which of round % 2 ? ["rebuilt", "fresh"] : ["fresh", "rebuilt"]) {
        appendFileSync(schemaFile, `// bench: round ${round} ${which} ${Date.now()}\n`);
        await git(repo, ["add", SCHEMA_FILE]);
        if (which === "fresh") await mustRun(db, ["--help"], { cwd: repo, env: cliEnv() });
        const commit = await git(repo, ["commit", "-q", "-m", "bench: fresh schema"]);
        (which === "fresh" ? fresh : rebuilt).push(commit.ms);
        await git(repo, ["reset", "-q", "--soft", "HEAD~1"]);
      }
      // The floors, in the same rounds: node's start, and the same commit without the hook.
      floor.push((await mustRun(process.execPath, ["-e", "0"])).ms);
      freshBare.push((await git(repo, ["commit", "-q", "--no-verify", "-m", "bench: bare"])).ms);
      await git(repo, ["reset", "-q", "--soft", "HEAD~1"]);
    }
    // The hook's two parts on their own, on the same staged schema change: where its time goes.
    const bin = join(repo, "node_modules", ".bin");
    const inRepo = { cwd: repo, env: { ...cliEnv(), PATH: `${bin}:${process.env.PATH}` } };
    const lintStaged = await timeRuns(PARTS_RUNS, join(bin, "lint-staged"), ["--quiet"], inRepo);
    const checkStaged = await timeRuns(PARTS_RUNS, db, ["check", "--staged"], inRepo);

    const added = median(plain.hooked) - median(plain.bare);
    const schemaMs = median(schema.hooked);
    return {
      rows: [
        {
          measurement: "commit, no schema file: added by the hook",
          value: `${ms(added)} added (${ms(median(plain.hooked))} in all)`,
          baseline: `\`git commit --no-verify\`: ${ms(median(plain.bare))}`,
          ratio: ratio(median(plain.hooked), median(plain.bare)),
          budget: "< 100 ms added",
          pass: added < ADDED_BUDGET_MS,
        },
        {
          measurement: "commit, schema change + migration, never judged before",
          value: ms(median(fresh)),
          baseline: `\`git commit --no-verify\`: ${ms(median(freshBare))}; \`node -e 0\`: ${ms(median(floor))}`,
          ratio: `${ratio(median(fresh), median(freshBare))}; ${ratio(median(fresh), median(floor))} node`,
          budget: "< 0.5 s",
          pass: median(fresh) < SCHEMA_BUDGET_MS,
        },
        {
          measurement: "the same, schema edited after the last `db` call",
          value: ms(median(rebuilt)),
          baseline: `never judged, bundle current: ${ms(median(fresh))}`,
          ratio: ratio(median(rebuilt), median(fresh)),
          budget: "— (information: a schema edit makes no new CLI bundle; one cost ≈0.3 s)",
        },
        {
          measurement: "commit, schema change + migration",
          value: ms(schemaMs),
          baseline: `\`git commit --no-verify\`: ${ms(median(schema.bare))}`,
          ratio: ratio(schemaMs, median(schema.bare)),
          budget: "< 0.5 s",
          pass: schemaMs < SCHEMA_BUDGET_MS,
        },
      ],
      sections: [
        `### Commits with the pre-commit hook

A throwaway repository holds this checkout's files (\`git ls-files --cached --others
--exclude-standard\`, as in the working tree) with node_modules symlinked; the hooks are installed
as \`npm ci\` does (core.hooksPath \`${hooksPath}\`). Each commit is timed with the hook and with
\`--no-verify\` (${ROUNDS} rounds, alternating), and undone with \`reset --soft\` so every round
commits the same staged change: after the first, \`db check --staged\` reuses drizzle-kit's
verdict on those same files. "Never judged before" appends a new comment to the schema file
before each commit, so drizzle-kit judges every time: ${spread(fresh)}, against
${spread(freshBare)} for the same commit with \`--no-verify\` and ${spread(floor)} for \`node -e 0\`
in the same rounds. Before each, an untimed \`db --help\` builds the CLI's bundle of the edited
sources, as the \`db generate\` of a real commit has; without it (the schema edited after the last
\`db\` call, which once made the hook bundle the CLI first): ${spread(rebuilt)}.

${table(
  ["commit", "hooked (n, min–max)", "`--no-verify`"],
  [
    [`one line appended to ${PLAIN_FILE}`, spread(plain.hooked), spread(plain.bare)],
    [
      `a column added in ${SCHEMA_FILE} + its \`db generate\` migration (${staged.length} files)`,
      spread(schema.hooked),
      spread(schema.bare),
    ],
  ],
)}

The hook's parts, run on their own on the staged schema change (median of ${PARTS_RUNS}):
\`lint-staged --quiet\` ${spread(lintStaged)}; \`db check --staged\` ${spread(checkStaged)}.`,
      ],
    };
  },
};
