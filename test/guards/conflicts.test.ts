// A rebase (and a merge) that stops on a conflict in drizzle/: two branches each generated "the
// next" migration with `db generate`, then `git rebase main` (or `git merge main`) stops with the
// journal, migrations.sum and the snapshot unmerged. Every place that reads drizzle/ — `db check`,
// `db status`, `db up`, `db migrate`, the post-checkout hook's `db follow` and the pre-commit
// hook's `db check --staged` — must say so in one ✖ line naming the files, with the fix, and
// nothing of the cascade of findings a conflicted tree would otherwise produce. The printed fix,
// run as printed, must finish the rebase (the merge) with a history `db check` passes.

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, type ExpectStatic, expect, it } from "vitest";
import { readJournal } from "../../src/migrations.ts";
import { oneLineError, type Run, runProcess } from "../cli/helpers.ts";
import { inRepo, makeRepo, type Repo, sharedStart } from "./repo.ts";

/**
 * main and feat/team-plan each with a migration 0003 of their own, made by `db generate`, and
 * feat/team-plan checked out: where every test starts (made once, each test on a copy).
 */
const twoBranches = sharedStart(async (repo: Repo) => {
  repo.git("checkout", "-q", "-b", "feat/team-plan");
  repo.addColumn("teams", "plan");
  await repo.generate("add_team_plan");
  repo.git("add", "-A");
  expect((await repo.commit("teams.plan", "--no-verify")).code).toBe(0);
  repo.git("checkout", "-q", "main");
  repo.addColumn("users", "nickname");
  await repo.generate("add_user_nickname");
  repo.git("add", "-A");
  expect((await repo.commit("users.nickname", "--no-verify")).code).toBe(0);
  repo.git("checkout", "-q", "feat/team-plan");
});

const git = (repo: Repo, ...args: string[]) =>
  runProcess("git", ["-C", repo.dir, ...args], { ...repo.env, GIT_EDITOR: "true" });

/** The cascade a conflicted tree used to produce, none of which may be printed. */
const MISLEADING =
  /collisions:|no two migrations share an index|was removed|cannot read the migration journal|Expected double-quoted|integrity|history/;

/** The one line's fix command, between backticks. */
const fixOf = (line: string) => /Fix: `([^`]+)`$/.exec(line)?.[1] ?? "";

/** Run a printed fix as a person would, at the package's top with `db` on PATH. */
const runFix = (repo: Repo, fix: string) =>
  runProcess("bash", ["-c", `cd ${repo.dir} && ${fix}`], {
    ...repo.env,
    // An editor that fails, as vim does without a terminal: the printed fix must need none.
    GIT_EDITOR: "false",
    PATH: `${repo.path("scripts/bin")}:${repo.env.PATH}`,
  });

/** Refused in exactly `line` (exit 1), and none of the cascade. */
function expectOneLine(expect: ExpectStatic, run: Run, line: string, what = "") {
  expect(run.code, what).toBe(1);
  expect(oneLineError(run), what).toBe(line);
  expect(run.stderr, what).not.toMatch(MISLEADING);
}

/** The fix, run as printed, succeeds; `then` checks what it left; `db check` passes on it. */
async function expectFixWorks(
  expect: ExpectStatic,
  repo: Repo,
  fix: string,
  then: () => void = () => {},
) {
  const fixed = await runFix(repo, fix);
  expect(fixed.code, fixed.stderr).toBe(0);
  then();
  const check = await repo.db("check");
  expect(check.code, check.stderr).toBe(0);
}

describe.concurrent("a conflict in drizzle/", () => {
  it(
    "mid-rebase: check, status, up, migrate say it in one line; the printed fix finishes the rebase",
    inRepo(async (expect, repo) => {
      const rebase = await git(repo, "rebase", "main");
      expect(rebase.code).not.toBe(0);
      expect(repo.git("ls-files", "-u", "--", "drizzle")).not.toBe("");
      // A local stack configured here (not running): `db up` would start it.
      repo.write(".env", "DATABASE_URL=postgres://kata:pw@127.0.0.1:1/kata\nDB_BACKEND=embedded\n");

      const fix =
        "git checkout HEAD -- drizzle && rm -f drizzle/0003_add_team_plan.sql && db generate --name add_team_plan && git add -A drizzle && GIT_EDITOR=true git rebase --continue";
      const expected = `✖ rebase stopped on a conflict in drizzle/: meta/0003_snapshot.json, meta/_journal.json, migrations.sum (unmerged). Fix: \`${fix}\``;
      for (const args of [["check"], ["status"], ["status", "--json"], ["up"], ["migrate"]]) {
        const run = await repo.db(...args);
        expectOneLine(expect, run, expected, `db ${args.join(" ")}`);
        expect(run.stdout).toBe("");
      }
      // `db up` failed before starting or creating anything.
      expect(existsSync(repo.path(".data"))).toBe(false);

      await expectFixWorks(expect, repo, fixOf(expected), () => {
        expect(existsSync(repo.path(".git/rebase-merge"))).toBe(false);
        expect(repo.git("log", "--format=%s", "-2")).toBe("teams.plan\nusers.nickname");
        expect(repo.git("ls-tree", "--name-only", "HEAD", "drizzle/")).toMatch(
          /0003_add_user_nickname\.sql\ndrizzle\/0004_add_team_plan\.sql/,
        );
        expect(repo.git("status", "--porcelain")).toBe("");
      });
    }, twoBranches),
    180_000,
  );

  it(
    "markers staged and committed by `git rebase --continue` (no pre-commit hook runs): HEAD is mended",
    inRepo(async (expect, repo) => {
      expect((await git(repo, "rebase", "main")).code).not.toBe(0);
      repo.git("add", "-A", "drizzle");
      const cont = await git(repo, "rebase", "--continue");
      expect(cont.code, cont.stderr).toBe(0); // git runs no pre-commit hook here

      const fix =
        "git checkout HEAD~1 -- drizzle && rm -f drizzle/0003_add_team_plan.sql && db generate --name add_team_plan && git add -A drizzle && git commit --amend --no-edit";
      expectOneLine(
        expect,
        await repo.db("check"),
        `✖ conflict markers committed in HEAD, in drizzle/: meta/0003_snapshot.json, meta/_journal.json, migrations.sum (conflict markers). Fix: \`${fix}\``,
      );
      await expectFixWorks(expect, repo, fix, () =>
        expect(repo.git("log", "--format=%s", "-2")).toBe("teams.plan\nusers.nickname"),
      );
    }, twoBranches),
    180_000,
  );

  it(
    "mid-merge of main into the branch: the line keeps main's side, and its fix commits the merge",
    inRepo(async (expect, repo) => {
      expect((await git(repo, "merge", "main")).code).not.toBe(0);

      const fix =
        "git checkout main -- drizzle && rm -f drizzle/0003_add_team_plan.sql && db generate --name add_team_plan && git add -A drizzle && git commit --no-edit";
      expectOneLine(
        expect,
        await repo.db("check"),
        `✖ merge stopped on a conflict in drizzle/: meta/0003_snapshot.json, meta/_journal.json, migrations.sum (unmerged). Fix: \`${fix}\``,
      );
      // The fix commits the merge through the pre-commit hook, which checks it.
      await expectFixWorks(expect, repo, fix, () =>
        expect(repo.git("rev-parse", "-q", "--verify", "HEAD^2")).toBe(
          repo.git("rev-parse", "main"),
        ),
      );
    }, twoBranches),
    180_000,
  );

  it(
    "staged conflict markers are refused by the pre-commit hook, index and tree unchanged",
    inRepo(async (expect, repo) => {
      expect((await git(repo, "merge", "main")).code).not.toBe(0);
      // The conflicts "resolved" by staging the files as git left them, markers and all.
      repo.git("add", "-A", "drizzle");
      expect(repo.git("ls-files", "-u", "--", "drizzle")).toBe("");
      const before = repo.state();
      const refused = await repo.commit("merge main", "--no-edit");
      expect(refused.code).not.toBe(0);
      const line = oneLineError(refused);
      expect(line).toMatch(
        /^✖ merge stopped on a conflict in the staged drizzle\/: meta\/0003_snapshot\.json, meta\/_journal\.json, migrations\.sum \(conflict markers\)\. Fix: `git checkout main -- drizzle && rm -f drizzle\/0003_add_team_plan\.sql && db generate --name add_team_plan && git add -A drizzle && git commit --no-edit`$/,
      );
      expect(refused.stderr).not.toMatch(MISLEADING);
      expect(repo.state()).toEqual(before);
    }, twoBranches),
    180_000,
  );

  it(
    "the post-checkout hook: quiet at the start of a rebase, the one line after `git switch --merge`",
    inRepo(async (expect, repo) => {
      // git runs post-checkout once in a rebase, when it checks out main, before any conflict.
      const rebase = await git(repo, "rebase", "main");
      expect(rebase.code).not.toBe(0);
      expect(rebase.stderr).not.toMatch(/✖|db follow failed/);
      expect((await git(repo, "rebase", "--abort")).code).toBe(0);

      // A branch switch that carries uncommitted drizzle/ edits into main's (`--merge`): this
      // branch's migration taken back out of its commit, its snapshot set aside (git would refuse
      // to switch over an untracked file main has), the journal and sum merged with main's.
      repo.git("reset", "-q", "--mixed", "HEAD~1");
      rmSync(repo.path("drizzle/meta/0003_snapshot.json"));
      const moved = await git(repo, "switch", "--merge", "main");
      expect(repo.git("ls-files", "-u", "--", "drizzle")).not.toBe("");
      expect(oneLineError(moved)).toBe(
        "✖ a conflict left in drizzle/: meta/_journal.json, migrations.sum (unmerged). Fix: `git checkout HEAD -- drizzle && rm -f drizzle/0003_add_team_plan.sql && db generate --name add_team_plan && git add -A drizzle`",
      );
      expect(moved.stderr).not.toMatch(/db follow failed/);
      // Its fix: main's drizzle/ and this branch's migration generated again on top, uncommitted.
      await expectFixWorks(expect, repo, fixOf(oneLineError(moved)), () =>
        expect(repo.git("diff", "--cached", "--name-only", "--", "drizzle/*.sql")).toBe(
          "drizzle/0004_add_team_plan.sql",
        ),
      );
    }, twoBranches),
    180_000,
  );

  it("without git: conflict markers in the journal, said by the migrator and by db check", async () => {
    const repo = await makeRepo({ git: false });
    try {
      repo.edit("drizzle/meta/_journal.json", (text) =>
        text
          .replace(/\n(\s*)\{\n(\s*)"idx": 2,/, '\n<<<<<<< HEAD\n$1{\n$2"idx": 2,')
          .concat("=======\n>>>>>>> 1a2b3c4 (teams.plan)\n"),
      );
      expect(() => readJournal(join(repo.dir, "drizzle"))).toThrow(
        /^cannot read the migration journal \S+: it holds git conflict markers: a merge or rebase stopped on a conflict in it, resolve that first$/,
      );
      expectOneLine(
        expect,
        await repo.db("check"),
        "✖ a conflict left in drizzle/: meta/_journal.json (conflict markers). Fix: restore drizzle/ as the main branch has it, remove this branch's new migration and run `db generate` again (docs/guards.md)",
      );
    } finally {
      repo.remove();
    }
  }, 60_000);
});
