// What every guard of `db check` sees and returns. One module per rule in this folder; the
// command (scripts/commands/check.ts) prepares the Context, runs the rules and prints the results.

import type { Repo } from "../basics/git.ts";
import type { Scratch } from "./scratch.ts";

export interface Finding {
  /** What kind of damage; an integrity and a history finding of one kind and file are one. */
  kind: string;
  /** The file to look at, relative to the package (drizzle/…, src/schema). */
  file: string;
  /** One line: what is wrong, naming the file, and how to fix it. */
  message: string;
  /** The migration concerned, when there is one. */
  tag?: string;
}

export interface RuleResult {
  findings: Finding[];
  /** Printed with ✔ when there are no findings, e.g. "3 migrations match drizzle/migrations.sum". */
  note: string;
  /** Set when the rule did not run, saying why; printed instead of the note. */
  skipped?: string;
}

/** A commit's drizzle/: package-relative path ("drizzle/0001_x.sql") → contents. */
export interface RefTree {
  /** As the user wrote it: HEAD, origin/main. */
  name: string;
  commit: string;
  files: Map<string, Buffer>;
}

export interface GitState {
  repo: Repo;
  /** Undefined before the first commit. */
  head: RefTree | undefined;
  /** `--base REF`, when given. */
  base: RefTree | undefined;
  /**
   * What a branch collision is fixed against: --base, else origin/main or main when they exist.
   * Only for messages and for the one exception of the history rule during a merge.
   */
  mainline: RefTree | undefined;
  /** A merge is being committed (MERGE_HEAD exists). */
  merging: boolean;
}

export interface Context {
  /** This package: drizzle-kit runs here and finds node_modules. */
  packageRoot: string;
  /** The package root of the tree being checked: packageRoot, or the index written to a scratch folder. */
  root: string;
  /** drizzle/ of the tree being checked. */
  folder: string;
  /** Checking the index (`--staged`) rather than the working tree. */
  staged: boolean;
  /** Undefined without git (e.g. the Nix build sandbox): history and squawk are skipped. */
  git: GitState | undefined;
  /**
   * False for `--staged` when no staged path is under the guarded paths: the schema and the
   * migrations are HEAD's, so drift and squawk have nothing new to look at.
   */
  touched: boolean;
  scratch: Scratch;
}

export type Rule = (ctx: Context) => Promise<RuleResult>;

/** The paths whose staged changes make a commit one the drift and squawk rules look at. */
export const GUARDED_PATHS = ["src/schema", "drizzle", "drizzle.config.ts", ".squawk.toml"];
/** Why drift and squawk skip a `--staged` run that touches none of them. */
export const UNTOUCHED =
  "no staged change under src/schema, drizzle/, drizzle.config.ts or .squawk.toml";

export const DRIZZLE = "drizzle";
export const JOURNAL = "drizzle/meta/_journal.json";
export const SUM = "drizzle/migrations.sum";
/** drizzle-kit's snapshot of a migration: one per index, shared by tags with the same index. */
export const snapshotOf = (tag: string) => `drizzle/meta/${tag.split("_")[0]}_snapshot.json`;
export const sqlOf = (tag: string) => `drizzle/${tag}.sql`;
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
