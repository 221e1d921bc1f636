// A throwaway git repository holding this checkout as it is now (tracked files and new ones not
// ignored, from the working tree), with node_modules symlinked and one commit, for the
// measurements that commit or run `db check` without touching the real repository.

import { copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { mustRun, PACKAGE_ROOT, type RunOptions, tempDir } from "./lib.ts";

/** git with a clean environment: no GIT_DIR/GIT_INDEX_FILE from a hook we might run inside. */
export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0" };
  for (const name of Object.keys(env)) if (name.startsWith("GIT_")) delete env[name];
  return env;
}

export const git = (repo: string, args: string[], options: RunOptions = {}) =>
  mustRun("git", args, { cwd: repo, env: gitEnv(), ...options });

export async function repoCopy(prefix: string): Promise<string> {
  const repo = tempDir(prefix);
  const listed = await mustRun(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    { env: gitEnv() },
  );
  for (const file of listed.stdout.split("\0")) {
    const from = join(PACKAGE_ROOT, file);
    // Deleted in the working tree but still in the index: as in the working tree, absent.
    if (!file || !existsSync(from)) continue;
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    copyFileSync(from, join(repo, file)); // keeps the mode (scripts/bin/db stays executable)
  }
  symlinkSync(join(PACKAGE_ROOT, "node_modules"), join(repo, "node_modules"));
  await git(repo, ["init", "-q", "-b", "main"]);
  const config: [string, string][] = [
    ["user.name", "bench"],
    ["user.email", "bench@example.com"],
    ["commit.gpgsign", "false"],
  ];
  for (const [key, value] of config) await git(repo, ["config", key, value]);
  // .gitignore's "node_modules/" matches directories only, not this symlink.
  await git(repo, ["config", "core.excludesFile", "/dev/null"]);
  await mustRun("sh", ["-c", "echo node_modules >> .git/info/exclude"], { cwd: repo });
  await git(repo, ["add", "-A"]);
  await git(repo, ["commit", "-q", "--no-verify", "-m", "bench: base"]);
  return repo;
}
