// The tree `db check` looks at, and what git knows about it. `--staged`: the index's drizzle/,
// src/schema, drizzle.config.ts and .squawk.toml written into a scratch folder (never the
// working copy). Otherwise: the working tree in place.

import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  findRepo,
  materialiseIndex,
  type Repo,
  readBlobs,
  resolveCommits,
  stagedChanges,
  treeFiles,
} from "../basics/git.ts";
import { CliError, UsageError } from "../cli/task.ts";
import { findConflict } from "./conflicts.ts";
import { Scratch } from "./scratch.ts";
import { type Context, DRIZZLE, type GitState, GUARDED_PATHS } from "./types.ts";

/** A commit's drizzle/ files, read in two git calls. */
async function readTree(repo: Repo, commit: string): Promise<Map<string, Buffer>> {
  const ids = await treeFiles(repo, commit, DRIZZLE);
  const blobs = await readBlobs(repo, [...ids.values()]);
  const files = new Map<string, Buffer>();
  for (const [path, id] of ids) files.set(path, blobs.get(id) ?? Buffer.alloc(0));
  return files;
}

async function gitState(repo: Repo, baseRef: string | undefined): Promise<GitState> {
  // Every ref in one git call; each commit's drizzle/ read once (on main, main is HEAD).
  const mainlines = baseRef ? [baseRef] : ["origin/main", "main"];
  const [head, merging, ...candidates] = await resolveCommits(repo, [
    "HEAD",
    "MERGE_HEAD",
    ...mainlines,
  ]);
  const trees = new Map<string, Promise<Map<string, Buffer>>>();
  const refTree = async (name: string | undefined, commit: string | undefined) => {
    if (name === undefined || commit === undefined) return undefined;
    if (!trees.has(commit)) trees.set(commit, readTree(repo, commit));
    return { name, commit, files: await (trees.get(commit) as Promise<Map<string, Buffer>>) };
  };
  // The first of the mainline refs that exists.
  const i = candidates.findIndex(Boolean);
  const [headTree, mainline] = await Promise.all([
    refTree("HEAD", head),
    refTree(mainlines[i], candidates[i]),
  ]);
  if (baseRef && !mainline) {
    throw new UsageError(
      `--base ${baseRef}: no such commit (try \`git fetch\`, or e.g. --base origin/main)`,
    );
  }
  return {
    repo,
    head: headTree,
    base: baseRef ? mainline : undefined,
    mainline,
    merging: Boolean(merging),
  };
}

export interface CheckOptions {
  packageRoot: string;
  staged: boolean;
  base: string | undefined;
}

/** The context of one run; the caller removes `scratch` when done. */
export async function prepare(options: CheckOptions): Promise<Context> {
  const { packageRoot, staged } = options;
  const repo = await findRepo(packageRoot);
  if (!repo && (staged || options.base)) {
    throw new CliError(
      `\`db check ${staged ? "--staged" : "--base"}\` needs git and a repository; without them run \`db check\` (it checks the files as they are)`,
    );
  }
  const scratch = new Scratch(packageRoot);
  try {
    // The index is written out while the refs are read and a conflict is looked for: it needs
    // none of them.
    const indexRoot =
      staged && repo ? materialiseIndex(repo, GUARDED_PATHS, scratch.folder("index")) : undefined;
    indexRoot?.catch(() => {}); // awaited below; a failure of gitState first must not leave it unhandled
    // A merge or rebase stopped on a conflict in drizzle/: no rule can judge that tree, each would
    // report a consequence of it. The conflict alone, with its fix.
    const conflict = await findConflict(packageRoot, { staged, repo: repo ?? null });
    if (conflict) throw new CliError(conflict.message);
    const state = repo ? await gitState(repo, options.base) : undefined;
    let root = packageRoot;
    let touched = true;
    if (indexRoot && repo) {
      const [changed, written] = await Promise.all([
        stagedChanges(repo, state?.head?.commit, GUARDED_PATHS),
        indexRoot,
      ]);
      touched = changed.length > 0;
      root = written;
    }
    const folder = join(root, DRIZZLE);
    if (!existsSync(folder)) {
      throw new CliError(
        `${staged ? "the index has no" : "no"} ${DRIZZLE}/ folder in ${packageRoot}`,
      );
    }
    return { packageRoot, root, folder, staged, git: state, touched, scratch };
  } catch (error) {
    scratch.remove();
    throw error;
  }
}
