// Rule e — dangerous operations in NEW migrations, by squawk (the PostgreSQL migration linter,
// npm `squawk-cli`) with the checked tree's .squawk.toml. New means: not in HEAD (`db check`,
// `--staged`), or not in REF with `--base REF` (a branch's whole contribution, for CI). Without
// git nothing can be told apart as new, and committed migrations are never linted again.
// A finding is acknowledged on purpose in the migration itself, on the line before the
// statement: `-- squawk-ignore <rule>[, <rule>] -- why` (then `db generate` re-records the file).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NO_TRANSACTION_MARKER } from "../../src/migrations.ts";
import { runFile } from "../basics/run.ts";
import { errorLine } from "../cli/task.ts";
import { newMigrations } from "./new-migrations.ts";
import { type Context, type Finding, plural, type Rule, sqlOf, UNTOUCHED } from "./types.ts";

const CONFIG = ".squawk.toml";

export interface Violation {
  file: string;
  /** 0-based, as squawk reports it. */
  line: number;
  level: string;
  message: string;
  help?: string | null;
  rule_name: string;
}

/**
 * squawk's own binary from its platform package (what squawk-cli's node wrapper would spawn,
 * without a node process in between: ≈0.1 s), else that wrapper.
 */
function squawkBinary(packageRoot: string): string {
  const native = join(
    packageRoot,
    "node_modules",
    "@squawk-cli",
    `${process.platform}-${process.arch}`,
    "bin",
    process.platform === "win32" ? "squawk.exe" : "squawk",
  );
  return existsSync(native) ? native : join(packageRoot, "node_modules", ".bin", "squawk");
}

/** squawk's findings in `files` (absolute paths), with the .squawk.toml of `root`. */
export async function squawkFiles(
  ctx: Pick<Context, "packageRoot" | "root">,
  files: string[],
  inTransaction: boolean,
): Promise<Violation[]> {
  if (files.length === 0) return [];
  const squawk = squawkBinary(ctx.packageRoot);
  const config = join(ctx.root, CONFIG);
  const args = [
    "--reporter",
    "json",
    ...(existsSync(config) ? ["--config", config] : []),
    // A file starting with the migrator's no-transaction marker runs outside a transaction.
    ...(inTransaction ? [] : ["--no-assume-in-transaction"]),
    ...files,
  ];
  const result = await runFile(squawk, args, {
    cwd: ctx.packageRoot,
    env: { ...process.env, NO_COLOR: "1" },
  });
  try {
    return JSON.parse(result.stdout) as Violation[];
  } catch {
    throw new Error(`squawk failed: ${errorLine(result)}`);
  }
}

export const squawk: Rule = async (ctx) => {
  if (!ctx.git) {
    return {
      findings: [],
      note: "",
      skipped: "no git here: cannot tell new migrations from committed ones, so none is linted",
    };
  }
  if (!ctx.touched) {
    return { findings: [], note: "", skipped: UNTOUCHED };
  }
  const found = newMigrations(ctx);
  if ("skipped" in found) return { findings: [], note: "", skipped: found.skipped };
  const { files, since } = found;
  if (files.length === 0) return { findings: [], note: `no new migration (${since})` };

  const transactional = (path: string) =>
    !readFileSync(path, "utf8").trimStart().startsWith(NO_TRANSACTION_MARKER);
  const [inTx, outOfTx] = await Promise.all([
    squawkFiles(
      ctx,
      files.filter((f) => transactional(f.path)).map((f) => f.path),
      true,
    ),
    squawkFiles(
      ctx,
      files.filter((f) => !transactional(f.path)).map((f) => f.path),
      false,
    ),
  ]);
  const display = new Map(files.map((f) => [f.path, sqlOf(f.tag)]));
  const findings: Finding[] = [...inTx, ...outOfTx].map((v) => {
    const file = display.get(v.file) ?? v.file;
    const help = v.help ? ` ${v.help.replace(/\.?$/, ".")}` : "";
    return {
      kind: "squawk",
      file,
      message: `${file}:${v.line + 1}: squawk ${v.rule_name}: ${v.message.replace(/\.?$/, ".")}${help} Fix the statement, or acknowledge it on purpose with \`-- squawk-ignore ${v.rule_name}\` on the line before it, then run \`db generate\` to record the file again`,
    };
  });
  return { findings, note: `${plural(files.length, "new migration")} (${since}) pass squawk` };
};
