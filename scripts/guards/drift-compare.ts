// The question the drift rule asks drizzle-kit — what would `drizzle-kit generate` make of this
// tree's src/schema against its latest snapshot? — answered two ways that must agree:
// - inProcess (what `db check` uses): drizzle-kit's programmatic API (`drizzle-kit/api`) in this
//   process, on the schema and config bundled by esbuild; no second node process to start (it
//   cost ≈0.5 s per check).
// - byCli: `drizzle-kit generate` as a process, on a copy of drizzle/ in the scratch folder. The
//   reference: test/guards/drift-compare.test.ts runs both on every case the guard tests hold, and
//   the rule falls back to it for configs the in-process path does not read (globs, directories,
//   another dialect).
// Either way drizzle-kit's own rename question counts: with no terminal to answer it, it rejects
// with NEEDS_TTY (the API) or prints it and writes nothing (the CLI).

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";
import { readJournal } from "../../src/migrations.ts";
import { type Cached, IMPORT_META_URL, runCommonJs } from "./code-cache.ts";
import { esbuild } from "./esbuild.ts";
import { bundledRequire, type Kit, kitBundle, loadKit } from "./kit-bundle.ts";
import { type Context, DRIZZLE } from "./types.ts";

/** drizzle-kit's answer, with no terminal, to a question it needs to ask (a possible rename). */
export const NEEDS_TTY = "Interactive prompts require a TTY terminal";
const NO_CHANGES = "No schema changes";
export const CONFIG = "drizzle.config.ts";

export type Verdict =
  /** No schema change: drizzle-kit would generate nothing. */
  | { kind: "same" }
  /** The SQL drizzle-kit would generate, on one line. */
  | { kind: "changes"; statements: string }
  /** drizzle-kit needs to ask whether something was renamed. */
  | { kind: "rename" }
  /** drizzle-kit could not compare; its reason, in package-relative paths. */
  | { kind: "error"; reason: string };

/** The latest snapshot of the checked tree's journal (undefined: none yet, or no journal). */
export function latestSnapshot(ctx: Context): string | undefined {
  try {
    const last = readJournal(ctx.folder).entries.at(-1);
    return last ? `meta/${last.tag.split("_")[0]}_snapshot.json` : undefined;
  } catch {
    // An unreadable journal is the integrity rule's finding; drizzle-kit fails on it too.
    return undefined;
  }
}

/** Paths of the scratch copy or of this package, as the package-relative paths people know. */
const packageRelative = (ctx: Context, line: string) =>
  line.replaceAll(`${ctx.root}/`, "").replaceAll(`${ctx.packageRoot}/`, "");

const oneLine = (sql: string) =>
  sql.replaceAll("--> statement-breakpoint", " ").replace(/\s+/g, " ").trim();

// ---------------------------------------------------------------------------------------------
// In process

interface KitConfig {
  dialect?: string;
  schema?: string | string[];
  casing?: "snake_case" | "camelCase";
}

let bundles = 0;

/**
 * Bundle `entry` (TypeScript) into one ES module in `dir` and import it. Packages stay outside,
 * loaded from this package's node_modules: the schema then shares drizzle-orm with
 * drizzle-kit/api, wherever the checked tree was written.
 */
async function importTs(
  ctx: Context,
  entry: string,
  dir: string,
  inputs: Inputs,
): Promise<Record<string, unknown>> {
  return import((await bundleTs(ctx, entry, dir, inputs)).url);
}

/** A bundle of the checked tree's TypeScript. */
interface TsBundle {
  file: string;
  url: string;
  /** The packages it imports. */
  packages: string[];
}

/**
 * `entry` bundled into `dir`: an ES module, or CommonJS to run with the kit bundle's drizzle-orm
 * (kit-bundle.ts).
 */
async function bundleTs(
  ctx: Context,
  entry: string,
  dir: string,
  inputs: Inputs,
  format: "esm" | "cjs" = "esm",
): Promise<TsBundle> {
  const { build } = esbuild();
  // A new name for every bundle: an ES module is loaded once per URL and process.
  const name = `${relative(ctx.root, entry).replace(/[^\w.-]/g, "_")}.${++bundles}.${format === "esm" ? "mjs" : "cjs"}`;
  const outfile = join(dir, name);
  const result = await build({
    entryPoints: [entry],
    outfile,
    // Written by this process, not esbuild's: the Ctrl-C that reaches both must not let esbuild
    // write into the scratch folder after the signal handler removed it.
    write: false,
    // Input paths in the metafile relative to the checked tree: what the verdict depends on.
    absWorkingDir: ctx.root,
    metafile: true,
    bundle: true,
    platform: "node",
    format,
    target: "node20",
    // CommonJS has no import.meta: the bundle's URL, as an ES module's would be (code-cache.ts).
    ...(format === "cjs" ? { define: { "import.meta.url": IMPORT_META_URL } } : {}),
    logLevel: "silent",
    // In the project (the scratch folder is under its node_modules/.cache) node finds the packages
    // from the bundle's own folder, as drizzle-kit/api finds them: they stay bare imports, and
    // esbuild never waits on this process (a resolve callback per import cost ≈0.1 s, more while
    // drizzle-kit/api is being parsed). Elsewhere each is resolved from this package.
    ...(ctx.scratch.inProject
      ? { packages: "external" as const }
      : { plugins: [fromThisPackage(ctx)] }),
  });
  for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
    const relativeImports = imports.flatMap((i) =>
      i.original?.startsWith(".") ? [i.original] : [],
    );
    inputs.set(input, relativeImports);
  }
  for (const file of result.outputFiles) writeFileSync(file.path, file.contents);
  const packages = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external).map((i) => i.path),
  );
  return { file: outfile, url: pathToFileURL(outfile).href, packages };
}

/**
 * Packages imported by the checked tree, resolved from this package's node_modules to absolute
 * paths: the schema then shares drizzle-orm with drizzle-kit/api, wherever the tree was written.
 */
function fromThisPackage(ctx: Context): Plugin {
  return {
    name: "packages-of-this-package",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === "resolving" || args.path.startsWith("node:")) return undefined;
        const found = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: ctx.packageRoot,
          pluginData: "resolving",
        });
        if (found.errors.length > 0) return { errors: found.errors };
        return { path: pathToFileURL(found.path).href, external: true };
      });
    },
  };
}

/** The schema entry files of the config, or undefined when the in-process path cannot read them. */
function schemaFiles(ctx: Context, config: KitConfig): string[] | undefined {
  if (config.dialect !== "postgresql" || config.schema === undefined) return undefined;
  const paths = Array.isArray(config.schema) ? config.schema : [config.schema];
  const files = paths.map((path) => (isAbsolute(path) ? path : resolve(ctx.root, path)));
  // Globs and directories are drizzle-kit's to expand: leave them to the CLI.
  const plainFile = (file: string) =>
    !/[*?{}[\]]/.test(file) && existsSync(file) && file.endsWith(".ts");
  return files.length > 0 && files.every(plainFile) ? files : undefined;
}

/**
 * drizzle-kit's generate, in this process: the latest snapshot against the schema's, diffed by
 * the same code (generateDrizzleJson, generateMigration). Undefined when the config is one it
 * does not read (then ask the CLI).
 */
export async function inProcess(ctx: Context): Promise<Verdict | undefined> {
  return (await inProcessWithInputs(ctx))?.verdict;
}

/**
 * The files the config and the schema were bundled from (paths relative to the checked tree, as
 * esbuild reports them), each with the relative specifiers it imports.
 */
export type Inputs = Map<string, string[]>;

/** The verdict, and the files of the checked tree it was reached on. */
export async function inProcessWithInputs(
  ctx: Context,
): Promise<{ verdict: Verdict; inputs: Inputs } | undefined> {
  const inputs: Inputs = new Map();
  const verdict = await judge(ctx, inputs);
  return verdict && { verdict, inputs };
}

type KitApi = typeof import("drizzle-kit/api");

async function judge(ctx: Context, inputs: Inputs): Promise<Verdict | undefined> {
  const dir = ctx.scratch.folder("drift");
  // From the bundle of drizzle-kit/api and drizzle-orm (kit-bundle.ts) where there is one, else
  // the packages as installed.
  const bundle = ctx.scratch.inProject ? await kitBundle(ctx.packageRoot, ctx.scratch) : undefined;
  // Parsing the packages' drizzle-kit/api (≈3 MB, with drizzle-orm's cores) is the longest step
  // and needs only this process, bundling the config only esbuild's: both at once. Wasted only
  // when the config is one the CLI must judge (then it is never awaited).
  const installedKit = () => {
    const loading = import("drizzle-kit/api");
    loading.catch(() => {}); // awaited below, where its failure is the verdict's reason
    return loading;
  };
  const kitLoading = bundle ? undefined : installedKit();
  let config: KitConfig;
  try {
    const loaded = await importTs(ctx, join(ctx.root, CONFIG), dir, inputs);
    config = (loaded.default ?? {}) as KitConfig;
  } catch (error) {
    return { kind: "error", reason: reason(ctx, error) };
  }
  const files = schemaFiles(ctx, config);
  if (!files) return undefined;
  let cached: Cached<Kit> | undefined;
  try {
    let kit: KitApi;
    let exports: Record<string, unknown>;
    if (bundle) {
      // The kit runs synchronously (from its code cache): while esbuild bundles the schema.
      const building = Promise.all(files.map((file) => bundleTs(ctx, file, dir, inputs, "cjs")));
      building.catch(() => {}); // awaited below
      cached = loadKit(bundle);
      const bundled = cached.exports;
      const schemas = await building;
      const loaded = fromKit(bundled, schemas) ?? (await asInstalled(ctx, files, dir, inputs));
      [kit, exports] = [loaded.kit, loaded.exports];
    } else {
      exports = await importSchemas(ctx, files, dir, inputs);
      kit = await (kitLoading as Promise<KitApi>);
    }
    const latest = latestSnapshot(ctx);
    const prev = latest
      ? JSON.parse(readFileSync(join(ctx.folder, latest), "utf8"))
      : kit.generateDrizzleJson({});
    const cur = kit.generateDrizzleJson(exports, prev.id, undefined, config.casing);
    const sql = await withoutTerminal(() => kit.generateMigration(prev, cur));
    // After a whole judgement: the cache then holds the functions it ran too (one kept after a
    // failure part way would be used, and lack them, from then on).
    cached?.save();
    return sql.length === 0
      ? { kind: "same" }
      : { kind: "changes", statements: oneLine(sql.join(" ")) };
  } catch (error) {
    if ((error as Error).message?.includes(NEEDS_TTY)) {
      cached?.save(); // drizzle-kit's diff ran up to its question
      return { kind: "rename" };
    }
    return { kind: "error", reason: reason(ctx, error) };
  }
}

/** The schema files, bundled as ES modules and imported: drizzle-orm as installed. */
async function importSchemas(
  ctx: Context,
  files: string[],
  dir: string,
  inputs: Inputs,
): Promise<Record<string, unknown>> {
  const exports: Record<string, unknown> = {};
  for (const file of files) {
    Object.assign(exports, await import((await bundleTs(ctx, file, dir, inputs)).url));
  }
  return exports;
}

/** The schema run with the kit's drizzle-orm; undefined when it imports a part the kit lacks. */
function fromKit(
  kit: Kit,
  schemas: TsBundle[],
): { kit: KitApi; exports: Record<string, unknown> } | undefined {
  const exports: Record<string, unknown> = {};
  for (const schema of schemas) {
    const require = bundledRequire(kit, schema.file, schema.packages);
    if (!require) return undefined;
    Object.assign(exports, runCommonJs<Record<string, unknown>>(schema.file, require));
  }
  return { kit, exports };
}

/** A part of drizzle-orm the kit bundle does not hold: the packages as installed, both. */
async function asInstalled(
  ctx: Context,
  files: string[],
  dir: string,
  inputs: Inputs,
): Promise<{ kit: KitApi; exports: Record<string, unknown> }> {
  const exports = await importSchemas(ctx, files, dir, inputs);
  return { kit: await import("drizzle-kit/api"), exports };
}

/**
 * drizzle-kit asks its rename question only with a terminal on stdin and stdout. `db check`
 * never asks (a hook or CI cannot answer, and the answer belongs in `db generate`): while
 * drizzle-kit runs, stdin reads as no terminal, as the CLI's closed stdin is.
 */
async function withoutTerminal<T>(fn: () => Promise<T>): Promise<T> {
  const stdin = process.stdin;
  const own = Object.getOwnPropertyDescriptor(stdin, "isTTY");
  Object.defineProperty(stdin, "isTTY", { value: false, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    if (own) Object.defineProperty(stdin, "isTTY", own);
    else delete (stdin as { isTTY?: boolean }).isTTY;
  }
}

/** One line of a failure: esbuild's first error, or the error's first line. */
function reason(ctx: Context, error: unknown): string {
  const err = error as { errors?: { text: string; location?: { file: string; line: number } }[] };
  const first = err.errors?.[0];
  const line = first
    ? `ERROR: ${first.text}${first.location ? ` (${first.location.file}:${first.location.line})` : ""}`
    : (String((error as Error).message ?? error).split("\n")[0] ?? "no message");
  return packageRelative(ctx, line);
}

// ---------------------------------------------------------------------------------------------
// As a process

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

/** drizzle-kit's own reason, from its output: esbuild's ERROR line or the Error line, not the stack. */
function cliReason(ctx: Context, output: { stdout: string; stderr: string }): string {
  const lines = `${output.stderr}\n${output.stdout}`
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("at ") && !/^[{}]$/.test(line));
  const line =
    lines.find((l) => l.includes("ERROR: ")) ??
    lines.find((l) => /^\w*Error\b/.test(l)) ??
    lines.at(-1) ??
    "no output";
  return packageRelative(ctx, line);
}

/** `drizzle-kit generate` against a copy of drizzle/ in the scratch folder (never the real one). */
export async function byCli(ctx: Context): Promise<Verdict> {
  // zx only here, the fallback: the in-process path must not pay for loading it.
  const { sh } = await import("../basics/system.ts");
  const dir = ctx.scratch.folder("drift-cli");
  const out = join(dir, DRIZZLE);
  // drizzle-kit generate needs the journal (for the next index) and the latest snapshot (what
  // it diffs against), not the SQL files or older snapshots: copying only these keeps this rule
  // from growing with the history (it read all 200 snapshots of a long one: 0.7 s instead of 0.37).
  mkdirSync(join(out, "meta"), { recursive: true });
  for (const file of ["meta/_journal.json", latestSnapshot(ctx)]) {
    if (file && existsSync(join(ctx.folder, file))) {
      mkdirSync(dirname(join(out, file)), { recursive: true });
      cpSync(join(ctx.folder, file), join(out, file));
    }
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

  if (result.stderr.includes(NEEDS_TTY)) return { kind: "rename" };
  const created = readdirSync(out).filter((name) => name.endsWith(".sql") && !before.has(name));
  const statements = oneLine(
    created.map((name) => readFileSync(join(out, name), "utf8")).join(" "),
  );
  if (statements) return { kind: "changes", statements };
  if (result.exitCode === 0 && result.stdout.includes(NO_CHANGES) && result.stderr.trim() === "") {
    return { kind: "same" };
  }
  return { kind: "error", reason: cliReason(ctx, result) };
}
