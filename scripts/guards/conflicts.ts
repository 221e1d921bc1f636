// A merge, rebase or cherry-pick that stopped on a conflict in drizzle/ (two branches each added
// "the next" migration: the journal, migrations.sum and the snapshot of that index conflict).
// While git waits for it to be resolved, drizzle/ is no history at all: the journal does not
// parse, migrations of both sides lie side by side. Every rule of `db check` and every command
// that reads the journal would report a consequence (a JSON parse error, "the entry of committed
// migration 0000_functions was removed", "no two migrations share an index"), none of them the
// cause or the fix. So this module is asked first, by `db check` (instead of the rules), `db
// status`, `db up`, `db migrate`, `db reset` and `db follow` (the post-checkout hook); it says in
// one line which files are conflicted and the commands that resolve it (docs/guards.md,
// "Conflicts").
//
// The fix is the collision fix of collisions.ts, made exact for git's state: keep the mainline's
// drizzle/ whole, remove what the other side added there, generate that migration again on top,
// stage drizzle/ and let git go on. During a rebase or cherry-pick the mainline is HEAD (the
// commit being picked goes on top of it); during a merge it is the side main is on.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { hasConflictMarkers } from "../../src/migrations.ts";
import { PACKAGE_ROOT } from "../basics/env.ts";
import {
  findRepo,
  gitPath,
  type IndexEntry,
  indexEntries,
  isAncestor,
  type Repo,
  readBlobs,
  resolveCommit,
  treeFiles,
  untrackedFiles,
} from "../basics/git.ts";
import { CliError } from "../cli/task.ts";
import { DRIZZLE } from "./types.ts";

/** What git is in the middle of, and how its conflict is resolved. */
interface Operation {
  /** As people say it: "rebase", "merge", "cherry-pick". */
  name: string;
  /** The ref whose drizzle/ is kept whole: the mainline side. */
  keep: string;
  /** What finishes the operation once drizzle/ is resolved and staged. */
  finish: string;
  /** Not an operation: HEAD itself holds the markers, and is mended. */
  committed?: boolean;
}

export interface Conflict {
  /** Package-relative paths under drizzle/ git could not merge (`git ls-files -u`). */
  unmerged: string[];
  /** Package-relative paths under drizzle/ holding conflict markers, not unmerged (`git add`ed). */
  markers: string[];
  /** The commands that resolve it, run at the package's top, joined with `&&`. */
  fix: string;
  /** The one line: what stopped where, which files, and the fix. */
  message: string;
}

/** A marker of each operation git can stop in with a conflict, most specific first. */
async function operation(repo: Repo): Promise<Operation | undefined> {
  const [rebaseMerge, rebaseApply, applying] = await Promise.all(
    ["rebase-merge", "rebase-apply", "rebase-apply/applying"].map(async (name) =>
      existsSync(await gitPath(repo, name)),
    ),
  );
  if (rebaseMerge || (rebaseApply && !applying)) {
    return { name: "rebase", keep: "HEAD", finish: "GIT_EDITOR=true git rebase --continue" };
  }
  if (applying) return { name: "git am", keep: "HEAD", finish: "git am --continue" };
  const [merge, pick, revert] = await Promise.all(
    ["MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD"].map((ref) => resolveCommit(repo, ref)),
  );
  if (merge)
    return {
      name: "merge",
      keep: await mergeMainline(repo, merge),
      finish: "git commit --no-edit",
    };
  if (pick) return { name: "cherry-pick", keep: "HEAD", finish: "git cherry-pick --continue" };
  if (revert) return { name: "revert", keep: "HEAD", finish: "git revert --continue" };
  return undefined;
}

/**
 * The side of a merge whose drizzle/ is kept: the one main is on (main merged into a branch:
 * main's side), else HEAD (a branch merged into main, or no main to tell by). Named as main when
 * it is main's tip, so the printed command reads as docs/guards.md's.
 */
async function mergeMainline(repo: Repo, mergeHead: string): Promise<string> {
  for (const name of ["origin/main", "main"]) {
    const commit = await resolveCommit(repo, name);
    if (!commit) continue;
    const theirs = await isAncestor(repo, commit, mergeHead);
    if (!theirs || (await isAncestor(repo, commit, "HEAD"))) return "HEAD";
    return commit === mergeHead ? name : "MERGE_HEAD";
  }
  return "HEAD";
}

/**
 * HEAD itself holds the markers: `git rebase --continue` runs no pre-commit hook, so files staged
 * with their markers are committed as they are. Then HEAD's parent is the mainline the commit
 * was put on, and the commit is mended: its drizzle/ as the parent's, its migration generated
 * again, amended.
 */
async function committedMarkers(repo: Repo, markers: string[]): Promise<Operation | undefined> {
  const head = await resolveCommit(repo, "HEAD");
  if (!head || markers.length === 0) return undefined;
  const files = await treeFiles(repo, head, DRIZZLE);
  const ids = markers.flatMap((p) => files.get(p) ?? []);
  const blobs = await readBlobs(repo, ids);
  const committed = ids.some((id) => hasConflictMarkers(blobs.get(id)?.toString() ?? ""));
  if (!committed || !(await resolveCommit(repo, "HEAD~1"))) return undefined;
  return { name: "commit", keep: "HEAD~1", finish: "git commit --amend --no-edit", committed };
}

/** Files under drizzle/ of the working tree holding conflict markers (also without git). */
function workTreeMarkers(packageRoot: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, relative: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(join(dir, entry.name), path);
      else if (entry.isFile() && hasConflictMarkers(readFileSync(join(dir, entry.name), "utf8")))
        found.push(path);
    }
  };
  walk(join(packageRoot, DRIZZLE), DRIZZLE);
  return found.sort();
}

/** Files under drizzle/ whose staged version holds conflict markers: what `git add` took as is. */
async function stagedMarkers(repo: Repo, entries: IndexEntry[]): Promise<string[]> {
  const merged = entries.filter((e) => e.stage === 0);
  const blobs = await readBlobs(
    repo,
    merged.map((e) => e.blob),
  );
  return merged
    .filter((e) => hasConflictMarkers(blobs.get(e.blob)?.toString() ?? ""))
    .map((e) => e.path)
    .sort();
}

/**
 * The commands that resolve it: the kept side's drizzle/ (which also resolves every unmerged
 * path), without the files the index or the working tree has beyond it (the migration the other
 * side added, its snapshot: left beside the kept ones they would be a collision, and
 * `git add -A drizzle` would stage them), that migration generated again under its name,
 * drizzle/ staged, git going on. Every file removed is named in the command.
 */
async function fixFor(repo: Repo, op: Operation | undefined, entries: IndexEntry[]) {
  const keep = op?.keep ?? "HEAD";
  const [commit, untracked] = await Promise.all([
    resolveCommit(repo, keep),
    untrackedFiles(repo, DRIZZLE),
  ]);
  const kept = commit ? await treeFiles(repo, commit, DRIZZLE) : new Map<string, string>();
  const present = new Set([...entries.map((e) => e.path), ...untracked]);
  const extra = [...present].filter((p) => !kept.has(p)).sort();
  const names = extra
    .filter((p) => /^drizzle\/[^/]+\.sql$/.test(p))
    .map((p) => basename(p, ".sql"))
    .map((tag) => tag.slice(tag.indexOf("_") + 1));
  return [
    `git checkout ${keep} -- ${DRIZZLE}`,
    ...(extra.length > 0 ? [`rm -f ${extra.join(" ")}`] : []),
    // Several migrations of one commit come back as one: drizzle-kit diffs the schema once.
    names.length > 0 ? `db generate --name ${names.join("_")}` : "db generate",
    `git add -A ${DRIZZLE}`,
    ...(op ? [op.finish] : []),
  ].join(" && ");
}

const inDrizzle = (paths: string[]) => paths.map((p) => p.slice(DRIZZLE.length + 1)).join(", ");

export interface ConflictOptions {
  /** Look at the index (what is about to be committed) rather than the working tree. */
  staged?: boolean;
  /** The package's repository when the caller has found it already; null: there is none. */
  repo?: Repo | null;
}

/**
 * A conflict in drizzle/ of this package: unmerged paths, or files holding conflict markers (of
 * the working tree, or with `staged` of the index). Undefined when there is none. Without git,
 * only the markers, and a fix in words.
 */
export async function findConflict(
  packageRoot: string,
  options: ConflictOptions = {},
): Promise<Conflict | undefined> {
  const repo = options.repo === undefined ? await findRepo(packageRoot) : options.repo;
  if (!repo) {
    const markers = options.staged ? [] : workTreeMarkers(packageRoot);
    if (markers.length === 0) return undefined;
    const fix =
      "restore drizzle/ as the main branch has it, remove this branch's new migration and run `db generate` again (docs/guards.md)";
    return {
      unmerged: [],
      markers,
      fix,
      message: `a conflict left in ${DRIZZLE}/: ${inDrizzle(markers)} (conflict markers). Fix: ${fix}`,
    };
  }
  const entries = await indexEntries(repo, DRIZZLE);
  const unmerged = [...new Set(entries.filter((e) => e.stage > 0).map((e) => e.path))].sort();
  const marked = options.staged ? await stagedMarkers(repo, entries) : workTreeMarkers(packageRoot);
  const markers = marked.filter((p) => !unmerged.includes(p));
  if (unmerged.length === 0 && markers.length === 0) return undefined;

  const op = (await operation(repo)) ?? (await committedMarkers(repo, markers));
  const fix = await fixFor(repo, op, entries);
  const where = options.staged && unmerged.length === 0 ? `the staged ${DRIZZLE}/` : `${DRIZZLE}/`;
  const what = [
    ...(unmerged.length > 0 ? [`${inDrizzle(unmerged)} (unmerged)`] : []),
    ...(markers.length > 0 ? [`${inDrizzle(markers)} (conflict markers)`] : []),
  ].join("; ");
  const head = !op
    ? `a conflict left in ${where}`
    : op.committed
      ? `conflict markers committed in HEAD, in ${where}`
      : `${op.name} stopped on a conflict in ${where}`;
  return { unmerged, markers, fix, message: `${head}: ${what}. Fix: \`${fix}\`` };
}

/** For the commands that read the journal: refuse, in the one line, before doing anything. */
export async function refuseConflict(packageRoot = PACKAGE_ROOT): Promise<void> {
  const conflict = await findConflict(packageRoot);
  if (conflict) throw new CliError(conflict.message);
}
