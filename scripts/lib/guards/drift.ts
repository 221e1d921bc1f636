// Rule c — schema drift: src/schema of the checked tree against the latest snapshot in its
// drizzle/, i.e. a schema change committed without its migration. drizzle-kit is the judge: it
// generates against a copy of drizzle/ in the scratch folder (never the real one) with a config
// that spreads the project's drizzle.config.ts. It passes only on "No schema changes" with nothing
// on stderr; its rename question (no terminal: an error on stderr, exit 0, nothing written) is a
// finding of its own. Comments and formatting do not change what drizzle-kit sees, so they pass.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { readJournal } from "../../../src/migrations.ts";
import { sh } from "../system.ts";
import { type Context, DRIZZLE, type Finding, type Rule, snapshotOf, UNTOUCHED } from "./types.ts";

/** drizzle-kit's answer, with no terminal, to a question it needs to ask (a possible rename). */
export const NEEDS_TTY = "Interactive prompts require a TTY terminal";
const NO_CHANGES = "No schema changes";
const CONFIG = "drizzle.config.ts";

export const drizzleKit = (packageRoot: string) =>
  join(packageRoot, "node_modules", ".bin", "drizzle-kit");

/** A path relative to drizzle-kit's working directory, written for a JS string literal. */
const literal = (from: string, to: string) => JSON.stringify(relative(from, to) || ".");

/**
 * Write a config that spreads the checked tree's drizzle.config.ts with `out` set to `out` and
 * its relative schema paths moved into the checked tree. drizzle-kit resolves both against its
 * working directory (the package) and fails on an absolute `out`: both are relative.
 */
function writeConfig(ctx: Context, dir: string, out: string): string {
  const config = join(dir, CONFIG);
  writeFileSync(
    config,
    `// Written by \`db check\` for one drizzle-kit run; removed with its scratch folder.
import base from ${literal(dir, join(ctx.root, CONFIG))};

const tree = ${literal(ctx.packageRoot, ctx.root)};
const moved = (path: string) =>
  path.startsWith("/") || tree === "." ? path : \`\${tree}/\${path.replace(/^\\.\\//, "")}\`;

export default {
  ...base,
  out: ${literal(ctx.packageRoot, out)},
  schema: Array.isArray(base.schema) ? base.schema.map(moved) : moved(base.schema),
};
`,
  );
  return config;
}

/** The statements drizzle-kit would write, on one line and shortened, for the message. */
function statements(out: string, before: Set<string>): string {
  const created = readdirSync(out).filter((name) => name.endsWith(".sql") && !before.has(name));
  const sql = created
    .map((name) => readFileSync(join(out, name), "utf8"))
    .join(" ")
    .replaceAll("--> statement-breakpoint", " ")
    .replace(/\s+/g, " ")
    .trim();
  return sql.length > 160 ? `${sql.slice(0, 157)}…` : sql;
}

/** drizzle-kit's own reason, from its output: esbuild's ERROR line or the Error line, not the stack. */
function reason(ctx: Context, output: { stdout: string; stderr: string }): string {
  const lines = `${output.stderr}\n${output.stdout}`
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("at ") && !/^[{}]$/.test(line));
  const line =
    lines.find((l) => l.includes("ERROR: ")) ??
    lines.find((l) => /^\w*Error\b/.test(l)) ??
    lines.at(-1) ??
    "no output";
  // Paths of the scratch copy or of this package, as the package-relative paths people know.
  return line.replaceAll(`${ctx.root}/`, "").replaceAll(`${ctx.packageRoot}/`, "");
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
  let latest = "the empty schema";
  let latestSnapshotFile: string | undefined;
  try {
    const last = readJournal(ctx.folder).entries.at(-1);
    if (last) {
      latest = snapshotOf(last.tag);
      latestSnapshotFile = `meta/${last.tag.split("_")[0]}_snapshot.json`;
    }
  } catch {
    // An unreadable journal is the integrity rule's finding; drizzle-kit will fail below too.
  }

  const dir = ctx.scratch.folder("drift");
  const out = join(dir, DRIZZLE);
  // drizzle-kit generate needs the journal (for the next index) and the latest snapshot (what
  // it diffs against), not the SQL files or older snapshots: copying only these keeps this rule
  // from growing with the history (it read all 200 snapshots of a long one: 0.7 s instead of 0.37).
  mkdirSync(join(out, "meta"), { recursive: true });
  for (const file of ["meta/_journal.json", latestSnapshotFile]) {
    if (file && existsSync(join(ctx.folder, file))) cpSync(join(ctx.folder, file), join(out, file));
  }
  const before = new Set(readdirSync(out));
  const config = writeConfig(ctx, dir, out);
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0" };
  // Outside node_modules (read-only node_modules) a staged schema still finds drizzle-orm.
  if (!ctx.scratch.inProject) {
    const modules = join(ctx.packageRoot, "node_modules");
    env.NODE_PATH = process.env.NODE_PATH
      ? `${modules}${delimiter}${process.env.NODE_PATH}`
      : modules;
  }
  // stdin closed and stdout a pipe: drizzle-kit can never wait for an answer.
  const result = await sh({
    cwd: ctx.packageRoot,
    input: "",
    nothrow: true,
    env,
  })`${drizzleKit(ctx.packageRoot)} generate --config ${config}`;

  const find = (message: string): Finding => ({ kind: "drift", file: "src/schema", message });
  const fixStaged = ctx.staged
    ? " (or, if the staged migration already holds it, stage the src/schema change that goes with it)"
    : "";
  if (result.stderr.includes(NEEDS_TTY)) {
    return {
      note: "",
      findings: [
        find(
          `${schema} differs from ${latest} and it looks like a rename (drizzle-kit asks whether something was renamed, with no terminal to answer): run \`db generate\` in a terminal and answer the question (or \`db generate --rename table.old=new\` without one), then commit the migration with the schema change`,
        ),
      ],
    };
  }
  const generated = statements(out, before);
  if (generated) {
    return {
      note: "",
      findings: [
        find(
          `${schema} differs from ${latest}: a schema change with no migration (it needs: ${generated}): run \`db generate\` and commit the new migration in drizzle/ with the schema change${fixStaged}`,
        ),
      ],
    };
  }
  if (result.exitCode === 0 && result.stdout.includes(NO_CHANGES) && result.stderr.trim() === "") {
    return { findings: [], note: `${schema} matches ${latest}` };
  }
  return {
    note: "",
    findings: [
      find(
        `drizzle-kit could not compare ${schema} with ${latest}: ${reason(ctx, result)} — fix it and run \`db check\` again`,
      ),
    ],
  };
};
