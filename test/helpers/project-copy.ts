// This checkout, copied as it is now into a directory of its own, for tests and benchmarks that
// run the CLI, commit or generate without touching the real repository. No vitest in here, so
// the benchmark can use it too.

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The project's files now: tracked and new (not ignored), minus ones deleted in the work tree. */
function projectFiles(): string[] {
  const listed = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    { cwd: PACKAGE_ROOT, encoding: "utf8" },
  );
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
