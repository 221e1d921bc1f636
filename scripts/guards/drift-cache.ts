// drizzle-kit's drift verdict, remembered. The verdict is a function of what drizzle-kit reads:
// the files the config and the schema are bundled from (esbuild's own list, recorded with the
// verdict), the folders they sit in (a new file can change what an import resolves to), the
// latest snapshot, and the packages (package-lock.json, drizzle-kit's and drizzle-orm's
// versions). When all of these are byte for byte what they were, asking again is redundant work
// (≈0.4 s of loading drizzle-kit and bundling the schema): a commit's hook and the `db check`
// after it, or a `db check` of an unchanged tree, reuse the answer. Anything else asks drizzle-kit.
// Failures are never remembered. Kept in the node_modules/.cache the packages really live in
// (shared by copies whose node_modules links to them); where it cannot be written, nothing is.

import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { Inputs, Verdict } from "./drift-compare.ts";
import { type Context, DRIZZLE } from "./types.ts";

/** Bumped when what a record means changes. */
const FORMAT = "kata-db drift verdict 1";
/** Records kept per config + snapshot (one per schema state): the last few are what repeats. */
const KEEP = 16;

interface VerdictRecord {
  /** What was read → its fingerprint then (see fingerprints()). */
  inputs: Record<string, string>;
  verdict: Verdict;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const contents = (file: string) => (existsSync(file) ? sha256(readFileSync(file)) : "none");

/** Names a relative import could resolve to in a folder (esbuild tries these extensions). */
const MODULE = /\.(?:[cm]?[jt]sx?|json)$/;
/** Settings esbuild reads from the nearest folder up that has them: they change the bundle. */
const SETTINGS = ["tsconfig.json", "jsconfig.json", "package.json"];

/** The nearest `name` from `folder` up to the file system's root, fingerprinted. */
function nearest(folder: string, name: string): string {
  for (let dir = folder; ; dir = dirname(dir)) {
    const file = join(dir, name);
    if (existsSync(file)) return contents(file);
    if (dir === dirname(dir)) return "none";
  }
}

/**
 * What the verdict depends on in the checked tree: each input file's contents; the module-like
 * names of each folder a relative import was resolved in (a new `x.ts` beside `x/index.ts`
 * changes what `./x` means); the nearest tsconfig.json, jsconfig.json and package.json of each
 * input's folder. Keys are relative to the tree, so the staged tree and the working tree agree.
 */
function fingerprints(root: string, inputs: Inputs): Record<string, string> | undefined {
  const prints: Record<string, string> = {};
  for (const [input, imports] of inputs) {
    if (isAbsolute(input) || input.startsWith("..") || input.startsWith(`${DRIZZLE}/`)) {
      return undefined; // only the tree's own files can be fingerprinted again
    }
    prints[`file:${input}`] = contents(join(root, input));
    for (const specifier of imports) {
      const folder = dirname(join(dirname(input), specifier));
      prints[`folder:${folder}`] ??= listing(join(root, folder));
    }
    for (const name of SETTINGS) {
      // Once per folder, not per input in it (each is a walk up to the file system's root).
      const key = `nearest:${dirname(input)}:${name}`;
      prints[key] ??= nearest(join(root, dirname(input)), name);
    }
  }
  return prints;
}

function listing(folder: string): string {
  try {
    return readdirSync(folder)
      .filter((name) => MODULE.test(name))
      .sort()
      .join("/");
  } catch {
    return "none";
  }
}

/** The fingerprint now of one recorded key (the inverse of fingerprints()). */
function fingerprintNow(root: string, key: string): string {
  const [kind, ...rest] = key.split(":");
  if (kind === "file") return contents(join(root, rest.join(":")));
  if (kind === "folder") return listing(join(root, rest.join(":")));
  const name = rest.pop() as string;
  return nearest(join(root, rest.join(":")), name);
}

export class DriftCache {
  private constructor(
    private readonly ctx: Context,
    private readonly file: string,
  ) {}

  /** The cache for this tree's config and latest snapshot, or undefined where none can be kept. */
  static open(ctx: Context, latestSnapshot: string | undefined): DriftCache | undefined {
    try {
      const modules = dirname(realpathSync(join(ctx.packageRoot, "node_modules", "drizzle-kit")));
      const version = (pkg: string) => readFileSync(join(modules, pkg, "package.json"), "utf8");
      const lockfile = join(ctx.packageRoot, "package-lock.json");
      const key = sha256(
        [
          FORMAT,
          existsSync(lockfile) ? sha256(readFileSync(lockfile)) : "no lockfile",
          sha256(version("drizzle-kit")),
          sha256(version("drizzle-orm")),
          latestSnapshot ?? "no snapshot",
          latestSnapshot ? sha256(readFileSync(join(ctx.folder, latestSnapshot))) : "",
        ].join("\n"),
      );
      return new DriftCache(ctx, join(modules, ".cache", "kata-db", "drift", `${key}.json`));
    } catch {
      return undefined;
    }
  }

  private records(): VerdictRecord[] {
    try {
      return JSON.parse(readFileSync(this.file, "utf8")) as VerdictRecord[];
    } catch {
      return [];
    }
  }

  /** The verdict drizzle-kit gave on exactly these files, if it was asked before. */
  lookup(): Verdict | undefined {
    // Each key fingerprinted once, however many records name it (the same files, mostly).
    const now = new Map<string, string>();
    const print = (key: string) => {
      const found = now.get(key) ?? fingerprintNow(this.ctx.root, key);
      now.set(key, found);
      return found;
    };
    const matches = (record: VerdictRecord) =>
      Object.entries(record.inputs).every(([key, recorded]) => print(key) === recorded);
    return this.records().find(matches)?.verdict;
  }

  /** Remember a verdict with the files it was reached on. */
  store(inputs: Inputs, verdict: Verdict): void {
    if (verdict.kind === "error" || inputs.size === 0) return;
    const prints = fingerprints(this.ctx.root, inputs);
    if (!prints) return;
    const records = [{ inputs: prints, verdict }, ...this.records()].slice(0, KEEP);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      // Written beside and renamed: a concurrent check reads the old list or the new, never half.
      const staging = `${this.file}.${process.pid}.tmp`;
      writeFileSync(staging, JSON.stringify(records));
      renameSync(staging, this.file);
    } catch {
      // A read-only node_modules: nothing remembered, nothing lost.
    }
  }
}
