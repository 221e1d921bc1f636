// A throwaway git repository holding this checkout as it is now (copyProject: tracked files and
// new ones not ignored, node_modules linked) and one commit, for the
// measurements that commit or run `db check` without touching the real repository.

import { copyProject } from "../test/helpers/project-copy.ts";
import { mustRun, type RunOptions, tempDir } from "./lib.ts";

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
  copyProject(repo);
  await git(repo, ["init", "-q", "-b", "main"]);
  const config: [string, string][] = [
    ["user.name", "bench"],
    ["user.email", "bench@example.com"],
    ["commit.gpgsign", "false"],
  ];
  for (const [key, value] of config) await git(repo, ["config", key, value]);
  await git(repo, ["config", "core.excludesFile", "/dev/null"]);
  await git(repo, ["add", "-A"]);
  await git(repo, ["commit", "-q", "--no-verify", "-m", "bench: base"]);
  return repo;
}
