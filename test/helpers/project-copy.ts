// This checkout, copied as it is now into a directory of its own, for tests and benchmarks that
// run the CLI, commit or generate without touching the real repository. No vitest in here, so
// the benchmark can use it too.

import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Is this checkout a git work tree? Not so for a tarball or the flake's source in the Nix sandbox. */
function inGitWorkTree(): boolean {
  try {
    execFileSync("git", ["rev-parse", "--is-inside-work-tree"], {
      cwd: PACKAGE_ROOT,
      stdio: "pipe",
    });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw error; // no git at all
    return false;
  }
}

/**
 * The project's files now: tracked and new (not ignored), minus ones deleted in the work tree.
 * Without a repository (the flake's source has no .git), every file .gitignore does not exclude,
 * listed by git itself through a throwaway, empty repository over this directory: the same
 * ignore rules, not a second reading of them.
 */
function projectFiles(): string[] {
  const args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"];
  const list = (env: NodeJS.ProcessEnv) =>
    execFileSync("git", args, { cwd: PACKAGE_ROOT, env, encoding: "utf8" });
  let listed: string;
  if (inGitWorkTree()) {
    listed = list(process.env);
  } else {
    const scratch = mkdtempSync(join(tmpdir(), "kata-project-files-"));
    try {
      execFileSync("git", ["init", "-q", "--bare", scratch], { stdio: "pipe" });
      listed = list({ ...process.env, GIT_DIR: scratch, GIT_WORK_TREE: PACKAGE_ROOT });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return [...new Set(listed.split("\0").filter(Boolean))].filter((f) =>
    existsSync(join(PACKAGE_ROOT, f)),
  );
}

/**
 * Copy the project's files into `dir` (modes kept: scripts/bin/db stays executable) and give it a
 * node_modules of symlinks to the real packages, with a .cache of its own: the CLI bundle and
 * `db check`'s scratch folders of the copy stay in the copy. A real directory, so .gitignore's
 * `node_modules/` keeps it out of a repository made there.
 */
export function copyProject(dir: string): void {
  for (const file of projectFiles()) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(PACKAGE_ROOT, file), join(dir, file));
  }
  const real = join(PACKAGE_ROOT, "node_modules");
  const own = join(dir, "node_modules");
  mkdirSync(own);
  for (const name of readdirSync(real)) {
    if (name !== ".cache") symlinkSync(join(real, name), join(own, name));
  }
}
