// Git, read only, for the guards, branch following and `db generate`: what a commit holds and
// what the index holds.
// Nothing here writes to the working tree, the index or the refs: `ls-tree`, `ls-files`,
// `cat-file` and `checkout-index --prefix` (without -u it does not even refresh the index's stat
// data). Inside a hook, git's GIT_INDEX_FILE is inherited, so "the index" is the one being committed.

import { execFile } from "node:child_process";
import { posix } from "node:path";

export interface Repo {
  /** The working tree's top directory, absolute. */
  top: string;
  /** This package's path inside the repository: "" at the top, else e.g. "packages/db/". */
  prefix: string;
}

/** Run git in the top directory; resolves with stdout as bytes, rejects with git's stderr. */
export function git(repo: Repo | string, args: string[], input?: string): Promise<Buffer> {
  const cwd = typeof repo === "string" ? repo : repo.top;
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      { cwd, encoding: "buffer", maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const detail = stderr.toString().trim().split("\n").at(-1) || error.message;
        reject(new Error(`git ${args[0]}: ${detail}`, { cause: error }));
      },
    );
    // git may exit before reading its input (e.g. on an error): that is reported above.
    child.stdin?.on("error", () => {});
    if (input === undefined) child.stdin?.end();
    else child.stdin?.end(input);
  });
}

/**
 * Repositories found, by directory. A command asks for its checkout's several times (the conflict
 * check, the branch, the stack's identity…), and each git process costs node's one thread a few
 * ms; the answer does not change while it runs. Only found ones: `git init` may yet make one.
 */
const found = new Map<string, Repo>();

/** The repository holding `dir`, or undefined without git or outside a repository. */
export async function findRepo(dir: string): Promise<Repo | undefined> {
  const known = found.get(dir);
  if (known) return { ...known };
  try {
    const [top = "", prefix = ""] = (
      await git(dir, ["rev-parse", "--show-toplevel", "--show-prefix"])
    )
      .toString()
      .split("\n");
    if (!top) return undefined;
    found.set(dir, { top, prefix });
    return { top, prefix };
  } catch {
    return undefined;
  }
}

/**
 * The commits several refs name (undefined for one that names none, e.g. HEAD before the first
 * commit), in one git call: one process for all of them, not one per ref (a spawn costs node's
 * one thread a few ms).
 */
export async function resolveCommits(repo: Repo, refs: string[]): Promise<(string | undefined)[]> {
  // A ref with a line break names nothing (and would be two lines of input).
  const asked = refs.filter((ref) => !/[\n\r]/.test(ref));
  if (asked.length === 0) return refs.map(() => undefined);
  // One line per ref, in order: "<id> commit <size>", or "<ref>^{commit} missing".
  let out: Buffer;
  try {
    out = await git(
      repo,
      ["cat-file", "--batch-check"],
      asked.map((ref) => `${ref}^{commit}\n`).join(""),
    );
  } catch {
    return refs.map(() => undefined); // a ref git cannot resolve names nothing
  }
  const found = new Map<string, string | undefined>();
  out
    .toString()
    .split("\n")
    .forEach((line, i) => {
      const ref = asked[i];
      if (ref !== undefined) found.set(ref, /^([0-9a-f]+) commit \d+$/.exec(line)?.[1]);
    });
  return refs.map((ref) => found.get(ref));
}

/** The commit a ref names, or undefined (e.g. HEAD before the first commit). */
export const resolveCommit = async (repo: Repo, ref: string): Promise<string | undefined> =>
  (await resolveCommits(repo, [ref]))[0];

/** A package-relative path ("drizzle") as a path from the top of the repository. */
export const topPath = (repo: Repo, path: string) => posix.join(repo.prefix, path);
const packagePath = (repo: Repo, path: string) => path.slice(repo.prefix.length);

/** Files of `commit` under a package-relative folder: package-relative path → blob id. */
export async function treeFiles(
  repo: Repo,
  commit: string,
  folder: string,
): Promise<Map<string, string>> {
  const out = await git(repo, [
    "ls-tree",
    "-r",
    "-z",
    "--full-tree",
    commit,
    "--",
    topPath(repo, folder),
  ]);
  const files = new Map<string, string>();
  for (const record of out.toString().split("\0")) {
    const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(record);
    if (match?.[1] && match[2]) files.set(packagePath(repo, match[2]), match[1]);
  }
  return files;
}

/** The contents of blobs, by id, in one `git cat-file --batch`. */
export async function readBlobs(repo: Repo, ids: string[]): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return blobs;
  const out = await git(repo, ["cat-file", "--batch"], `${unique.join("\n")}\n`);
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(10, at);
    const [id = "", type, size] = out.subarray(at, eol).toString().split(" ");
    if (type !== "blob" || size === undefined) throw new Error(`git cat-file: cannot read ${id}`);
    const start = eol + 1;
    blobs.set(id, out.subarray(start, start + Number(size)));
    at = start + Number(size) + 1;
  }
  return blobs;
}

/** Package-relative paths staged under these package-relative paths that differ from HEAD. */
export async function stagedChanges(
  repo: Repo,
  head: string | undefined,
  paths: string[],
): Promise<string[]> {
  const spec = paths.map((p) => topPath(repo, p));
  const out = head
    ? await git(repo, [
        "diff",
        "--cached",
        "--name-only",
        "-z",
        "--no-renames",
        head,
        "--",
        ...spec,
      ])
    : await git(repo, ["ls-files", "-z", "--", ...spec]);
  return out
    .toString()
    .split("\0")
    .filter(Boolean)
    .map((p) => packagePath(repo, p));
}

/**
 * Write the index's version of the files under these package-relative paths into `dir`
 * (as `dir/<prefix>/<path>`); returns the package root inside `dir`.
 */
export async function materialiseIndex(repo: Repo, paths: string[], dir: string): Promise<string> {
  const listed = await git(repo, ["ls-files", "-z", "--", ...paths.map((p) => topPath(repo, p))]);
  // An unmerged path is listed once per stage; checkout-index then names it in its error.
  const files = [...new Set(listed.toString().split("\0").filter(Boolean))];
  if (files.length > 0) {
    await git(
      repo,
      ["checkout-index", "-z", "--stdin", `--prefix=${dir}/`],
      `${files.join("\0")}\0`,
    );
  }
  return posix.join(dir, repo.prefix);
}

/** A file of git's own directory (`rev-parse --git-path`: right in a worktree too), absolute. */
export async function gitPath(repo: Repo, name: string): Promise<string> {
  const path = (await git(repo, ["rev-parse", "--git-path", name])).toString().trim();
  return posix.isAbsolute(path) ? path : posix.join(repo.top, path);
}

/** Is `ancestor` an ancestor of (or the same commit as) `commit`? */
export async function isAncestor(repo: Repo, ancestor: string, commit: string): Promise<boolean> {
  try {
    await git(repo, ["merge-base", "--is-ancestor", ancestor, commit]);
    return true;
  } catch {
    return false;
  }
}

/** One entry of the index under a folder: stage 0 when merged, 1–3 for an unmerged path. */
export interface IndexEntry {
  /** Package-relative. */
  path: string;
  stage: number;
  blob: string;
}

/** The index's entries under a package-relative folder (`ls-files --stage`), every stage. */
export async function indexEntries(repo: Repo, folder: string): Promise<IndexEntry[]> {
  const out = await git(repo, ["ls-files", "--stage", "-z", "--", topPath(repo, folder)]);
  const entries: IndexEntry[] = [];
  for (const record of out.toString().split("\0")) {
    const match = /^\d+ ([0-9a-f]+) (\d)\t(.*)$/s.exec(record);
    if (match?.[1] && match[2] && match[3]) {
      entries.push({ path: packagePath(repo, match[3]), stage: Number(match[2]), blob: match[1] });
    }
  }
  return entries;
}

/** Files under a package-relative folder that git does not track and does not ignore. */
export async function untrackedFiles(repo: Repo, folder: string): Promise<string[]> {
  const out = await git(repo, [
    "ls-files",
    "--others",
    "--exclude-standard",
    "-z",
    "--",
    topPath(repo, folder),
  ]);
  return out
    .toString()
    .split("\0")
    .filter(Boolean)
    .map((p) => packagePath(repo, p));
}
