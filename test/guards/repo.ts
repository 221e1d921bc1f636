// A throwaway git repository holding a copy of this project (its files as they are now, tracked
// or new), with the hooks installed by the `prepare` script and a baseline commit — to make real
// commits through .husky/pre-commit and to run the `db` CLI as a process, as a developer would.
// node_modules is a folder of symlinks to the real one's packages, so its .cache (where `db check`
// puts its scratch folders) belongs to this copy alone and can be checked for leftovers.

import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ExpectStatic } from "vitest";
import { type Run, runProcess } from "../cli/helpers.ts";
import { atFileEnd } from "../helpers/file-end.ts";
import { copyProject } from "../helpers/project-copy.ts";

export type { Run };

/** The environment of every command: no GIT_* of a surrounding hook, no user or system git config. */
function environment(home: string, ceiling: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("GIT_") && !["HUSKY", "DEBUG", "KATA_DB_ROOT"].includes(name)) {
      env[name] = value;
    }
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    GIT_CONFIG_NOSYSTEM: "1",
    // Never the repository of a folder around the copy (the copy without git must have none).
    GIT_CEILING_DIRECTORIES: ceiling,
    GIT_CONFIG_GLOBAL: join(home, ".gitconfig"),
    GIT_AUTHOR_NAME: "Guard Test",
    GIT_AUTHOR_EMAIL: "guards@example.test",
    GIT_COMMITTER_NAME: "Guard Test",
    GIT_COMMITTER_EMAIL: "guards@example.test",
    FORCE_COLOR: "0",
    NO_COLOR: "1",
  };
}

export class Repo {
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly dir: string,
    home: string,
  ) {
    this.env = environment(home, dirname(dir));
  }

  path = (file: string) => join(this.dir, file);
  read = (file: string) => readFileSync(this.path(file), "utf8");
  write = (file: string, text: string) => {
    mkdirSync(dirname(this.path(file)), { recursive: true });
    writeFileSync(this.path(file), text);
  };
  edit = (file: string, change: (text: string) => string) => {
    const before = this.read(file);
    const after = change(before);
    if (after === before) throw new Error(`edit of ${file} changed nothing`);
    this.write(file, after);
  };

  /** git, synchronously (quick commands only); returns stdout. */
  git = (...args: string[]) =>
    execFileSync("git", args, { cwd: this.dir, env: this.env, encoding: "utf8" }).trim();

  /** A commit through the hooks, as a process. */
  commit = (message: string, ...flags: string[]) =>
    runProcess("git", ["-C", this.dir, "commit", "-q", "-m", message, ...flags], this.env);

  /** The copy's `db` CLI (scripts/bin/db), as a process. */
  db = (...args: string[]) => runProcess(this.path("scripts/bin/db"), args, this.env);

  /** What must not change when a commit is refused: HEAD, the index, the working tree. */
  state = () => ({
    head: this.git("rev-parse", "HEAD"),
    index: this.git("write-tree"),
    status: this.git("status", "--porcelain=v1", "-uall"),
  });

  /** Scratch folders `db check` left behind (there must be none). */
  leftovers = () => {
    const cache = this.path("node_modules/.cache");
    return existsSync(cache)
      ? readdirSync(cache).filter((n) => n.startsWith("kata-db-check-"))
      : [];
  };

  /** Add a column to a table of src/schema (formatted as Biome wants it). */
  addColumn = (table: "teams" | "users", column: string, type = "text()") =>
    this.edit("src/schema/identity.ts", (text) =>
      text.replace(
        table === "teams" ? "    slug: text().notNull(),\n" : "    email: text().notNull(),\n",
        (line) => `${line}    ${column}: ${type},\n`,
      ),
    );

  /** `db generate --name`; returns the new migration's path. */
  generate = async (name: string): Promise<string> => {
    const result = await this.db("generate", "--name", name);
    if (result.code !== 0) throw new Error(`db generate failed:\n${result.stderr}`);
    const file = readdirSync(this.path("drizzle")).find((n) => n.endsWith(`_${name}.sql`));
    if (!file) throw new Error(`db generate wrote no ${name} migration:\n${result.stdout}`);
    return `drizzle/${file}`;
  };

  remove = () => rmSync(dirname(this.dir), { recursive: true, force: true });
}

export interface RepoOptions {
  /** Run `git init`, install the hooks and commit the baseline (default true). */
  git?: boolean;
}

function emptyRepo(): Repo {
  const root = mkdtempSync(join(tmpdir(), "kata-guards-"));
  const home = join(root, "home");
  mkdirSync(join(home, ".config"), { recursive: true });
  writeFileSync(join(home, ".gitconfig"), "");
  return new Repo(join(root, "project"), home);
}

/**
 * The baseline repository of this worker, made once: the project copied, `git init`, the
 * baseline commit, the hooks installed by the `prepare` script as `npm ci` runs it. Each test
 * gets a copy of it (`cp -a`: the links of node_modules, the hooks and .git as they are), and no
 * test touches it, so the files a worker runs one after another share it. It is in the run's
 * scratch folder (TMPDIR), which the global setup removes at the end of the run.
 */
let baseline: Promise<Repo> | undefined;
function baselineRepo(): Promise<Repo> {
  baseline ??= (async () => {
    const repo = emptyRepo();
    copyProject(repo.dir);
    repo.git("init", "-q", "-b", "main");
    repo.git("add", "-A");
    repo.git("commit", "-q", "--no-verify", "-m", "baseline");
    execFileSync("node", [".husky/install.mjs"], { cwd: repo.dir, env: repo.env });
    return repo;
  })();
  return baseline;
}

export async function makeRepo(options: RepoOptions = {}): Promise<Repo> {
  const repo = emptyRepo();
  if (options.git === false) {
    copyProject(repo.dir);
    return repo;
  }
  execFileSync("cp", ["-a", (await baselineRepo()).dir, repo.dir]);
  return repo;
}

/**
 * For the tests of a file that all start from the same state, made by `prepare` (say, two
 * branches, each with a generated migration): the state is made once, in a repository of its own
 * removed after the file, and each call returns a copy of it (`cp -a`, as of the baseline).
 */
export function sharedStart(prepare: (repo: Repo) => Promise<void>): () => Promise<Repo> {
  let prepared: Promise<Repo> | undefined;
  return async () => {
    prepared ??= (async () => {
      const repo = await makeRepo();
      atFileEnd(repo.remove);
      await prepare(repo);
      return repo;
    })();
    const copy = emptyRepo();
    execFileSync("cp", ["-a", (await prepared).dir, copy.dir]);
    return copy;
  };
}

/**
 * A test in a repository of its own (the baseline's copy, or `start`'s), removed afterwards: such
 * tests can run concurrently (they mostly wait for git, the CLI and drizzle-kit), with the
 * test's own `expect`.
 */
export const inRepo =
  (
    test: (expect: ExpectStatic, repo: Repo) => Promise<void>,
    start: () => Promise<Repo> = makeRepo,
  ) =>
  async ({ expect }: { expect: ExpectStatic }) => {
    const repo = await start();
    try {
      await test(expect, repo);
      expect(repo.leftovers()).toEqual([]);
    } finally {
      repo.remove();
    }
  };
