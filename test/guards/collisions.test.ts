// Two branches each generate "the next" migration; merging them leaves two migrations with one
// index. The hook refuses the merge commit; committed with --no-verify, `db check` catches it and
// prints the steps that fix it — which, run as printed, give a history that passes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProcess } from "../cli/helpers.ts";
import { makeRepo, type Repo } from "./repo.ts";

describe("a branch collision", () => {
  let repo: Repo;

  beforeAll(async () => {
    repo = await makeRepo();
  }, 60_000);
  afterAll(() => repo?.remove());

  it("is refused at the merge, caught after --no-verify, and fixed by the printed steps", async () => {
    repo.git("checkout", "-q", "-b", "feature");
    repo.addColumn("teams", "quota");
    const ours = await repo.generate("add_team_quota");
    repo.git("add", "-A");
    expect((await repo.commit("feature: teams.quota")).code).toBe(0);

    repo.git("checkout", "-q", "main");
    repo.addColumn("users", "nickname");
    const theirs = await repo.generate("add_user_nickname");
    repo.git("add", "-A");
    expect((await repo.commit("main: users.nickname")).code).toBe(0);

    // Merge main into the branch; resolve the conflicts the naive way: keep both.
    repo.git("checkout", "-q", "feature");
    expect(() => repo.git("merge", "-q", "--no-edit", "main")).toThrow();
    const journalOf = (ref: string) =>
      JSON.parse(repo.git("show", `${ref}:drizzle/meta/_journal.json`));
    const journal = journalOf("HEAD");
    journal.entries.push(journalOf("main").entries.at(-1));
    repo.write("drizzle/meta/_journal.json", JSON.stringify(journal, null, 2));
    const mainSum = repo.git("show", "main:drizzle/migrations.sum").split("\n");
    repo.write(
      "drizzle/migrations.sum",
      `${repo.git("show", "HEAD:drizzle/migrations.sum")}\n${mainSum.at(-1)}\n`,
    );
    repo.git("checkout", "--theirs", "drizzle/meta/0003_snapshot.json");
    repo.git("add", "-A");

    const before = repo.state();
    const refused = await repo.commit("merge main", "--no-edit");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^✖ branch collision: /m);
    expect(repo.state()).toEqual(before);

    expect((await repo.commit("merge main", "--no-verify")).code).toBe(0);
    const check = await repo.db("check");
    expect(check.code).toBe(1);
    const collision = new RegExp(
      `^✖ branch collision: ${ours} and ${theirs} both have index 0003 — two branches each added a migration and the migrator refuses this history\\. Fix: keep main's migrations and generate this branch's again on top of them: \`([^\`]+)\``,
      "m",
    );
    expect(check.stderr).toMatch(collision);
    const fix = collision.exec(check.stderr)?.[1] ?? "";
    expect(fix).toBe(
      `git checkout main -- drizzle && rm -f ${ours} && db generate && git add -A drizzle`,
    );

    // The printed steps, as a person would run them (db on PATH, as in the dev shell).
    const env = { ...repo.env, PATH: `${repo.path("scripts/bin")}:${repo.env.PATH}` };
    const steps = await runProcess("bash", ["-c", `cd ${repo.dir} && ${fix}`], env);
    expect(steps.code, steps.stderr).toBe(0);
    // The branch's migration, generated again after main's (git would call it a rename of the old one).
    const regenerated = repo.git(
      "diff",
      "--cached",
      "--name-only",
      "--no-renames",
      "--diff-filter=A",
      "--",
      "drizzle/*.sql",
    );
    expect(regenerated).toMatch(/^drizzle\/0004_\w+\.sql$/);
    repo.git("add", "-A");

    const fixed = await repo.commit("regenerate teams.quota on top of main");
    expect(fixed.code, fixed.stderr).toBe(0);
    const after = await repo.db("check");
    expect(after.code, after.stderr).toBe(0);
    expect(repo.leftovers()).toEqual([]);
  }, 120_000);
});
