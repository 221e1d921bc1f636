// Rule c — schema drift: src/schema of the checked tree against the latest snapshot in its
// drizzle/, i.e. a schema change committed without its migration. drizzle-kit is the judge
// (drift-compare.ts: its programmatic API in this process; its CLI where that cannot read the
// config), or its verdict on exactly the same files, remembered (drift-cache.ts). It passes only when drizzle-kit would generate nothing; its rename question (which no
// one can answer here) is a finding of its own. Comments and formatting do not change what
// drizzle-kit sees, so they pass.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { readJournal } from "../../src/migrations.ts";
import { DriftCache } from "./drift-cache.ts";
import { byCli, CONFIG, inProcessWithInputs, latestSnapshot } from "./drift-compare.ts";
import { type Context, type Finding, type Rule, snapshotOf, UNTOUCHED } from "./types.ts";

export { drizzleKit, NEEDS_TTY } from "./drift-compare.ts";

/** The latest snapshot's name for messages. */
function latestName(ctx: Context): string {
  try {
    const last = readJournal(ctx.folder).entries.at(-1);
    return last ? snapshotOf(last.tag) : "the empty schema";
  } catch {
    return "the empty schema";
  }
}

export const drift: Rule = async (ctx) => {
  if (!ctx.touched) {
    return {
      findings: [],
      note: "",
      skipped: UNTOUCHED,
    };
  }
  const schema = ctx.staged ? "the staged src/schema" : "src/schema";
  if (!existsSync(join(ctx.root, CONFIG))) {
    const file = ctx.staged ? `${CONFIG} (staged)` : CONFIG;
    return {
      note: "",
      findings: [
        {
          kind: "drift",
          file: CONFIG,
          message: `${file} is missing: it tells drizzle-kit where src/schema and drizzle/ are`,
        },
      ],
    };
  }
  const latest = latestName(ctx);
  const cache = DriftCache.open(ctx, latestSnapshot(ctx));
  const remembered = cache?.lookup();
  let verdict = remembered;
  if (!verdict) {
    const judged = await inProcessWithInputs(ctx);
    if (judged) cache?.store(judged.inputs, judged.verdict);
    verdict = judged?.verdict ?? (await byCli(ctx));
  }

  const find = (message: string): Finding => ({ kind: "drift", file: "src/schema", message });
  const fixStaged = ctx.staged
    ? " (or, if the staged migration already holds it, stage the src/schema change that goes with it)"
    : "";
  switch (verdict.kind) {
    case "same":
      return {
        findings: [],
        note: `${schema} matches ${latest}${remembered ? " (drizzle-kit's verdict on these same files, remembered)" : ""}`,
      };
    case "rename":
      return {
        note: "",
        findings: [
          find(
            `${schema} differs from ${latest} and it looks like a rename (drizzle-kit asks whether something was renamed, with no terminal to answer): run \`db generate\` in a terminal and answer the question (or \`db generate --rename table.old=new\` without one), then commit the migration with the schema change`,
          ),
        ],
      };
    case "changes": {
      const sql = verdict.statements;
      const generated = sql.length > 160 ? `${sql.slice(0, 157)}…` : sql;
      return {
        note: "",
        findings: [
          find(
            `${schema} differs from ${latest}: a schema change with no migration (it needs: ${generated}): run \`db generate\` and commit the new migration in drizzle/ with the schema change${fixStaged}`,
          ),
        ],
      };
    }
    case "error":
      // The same Ctrl-C that reaches us also kills esbuild's service process, failing the
      // comparison: let a pending signal handler (Scratch: clean up, exit 130) run first, rather
      // than report an interrupted run as a finding.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return {
        note: "",
        findings: [
          find(
            `drizzle-kit could not compare ${schema} with ${latest}: ${verdict.reason} — fix it and run \`db check\` again`,
          ),
        ],
      };
  }
};
