// Committed migrations are immutable: editing, deleting, renaming or reordering one is refused
// by the pre-commit hook (real commits, index and working tree left as they were), and the same
// change committed with --no-verify is caught by `db check` on the whole tree.

import { describe, type ExpectStatic, it } from "vitest";
import { inRepo, type Repo } from "./repo.ts";

/** Commit through the hook: refused with these lines, and nothing changed. */
async function refused(expect: ExpectStatic, repo: Repo, ...lines: RegExp[]) {
  const before = repo.state();
  const run = await repo.commit("unsafe change");
  expect(run.code, run.stderr).not.toBe(0);
  for (const line of lines) expect(run.stderr).toMatch(line);
  expect(run.stderr).toMatch(/^✖ db check: \d+ findings? in the staged tree/m);
  expect(repo.state()).toEqual(before);
}

/** The same change committed with --no-verify, then `db check` on the whole tree. */
async function caughtAfterSkippingTheHook(expect: ExpectStatic, repo: Repo, ...lines: RegExp[]) {
  const commit = await repo.commit("unsafe change", "--no-verify");
  expect(commit.code, commit.stderr).toBe(0);
  const check = await repo.db("check");
  expect(check.code, check.stderr).toBe(1);
  for (const line of lines) expect(check.stderr).toMatch(line);
  expect(repo.leftovers()).toEqual([]);
}

describe.concurrent("a committed migration", () => {
  it(
    "edited: refused by the hook, caught by db check after --no-verify",
    inRepo(async (expect, repo) => {
      repo.edit("drizzle/0001_tables.sql", (sql) => `${sql}\n-- a small fix\n`);
      repo.git("add", "-A");
      await refused(
        expect,
        repo,
        /^✖ drizzle\/0001_tables\.sql was edited after it was committed \(it differs from HEAD\): undo it with `git checkout HEAD -- drizzle\/0001_tables\.sql` and put the change in a new migration/m,
      );
      await caughtAfterSkippingTheHook(
        expect,
        repo,
        /^✖ drizzle\/0001_tables\.sql changed after it was committed: restore it from git and put the change in a new migration/m,
      );
    }),
    60_000,
  );

  it(
    "deleted (file and journal entry): refused, and caught after --no-verify",
    inRepo(async (expect, repo) => {
      repo.git("rm", "-q", "drizzle/0002_integrity_triggers.sql");
      repo.edit("drizzle/meta/_journal.json", (text) => {
        const journal = JSON.parse(text);
        journal.entries.pop();
        return JSON.stringify(journal, null, 2);
      });
      repo.git("add", "-A");
      await refused(
        expect,
        repo,
        /^✖ committed migration 0002_integrity_triggers was deleted \(drizzle\/0002_integrity_triggers\.sql and its entry in drizzle\/meta\/_journal\.json\): restore the file with `git checkout HEAD -- drizzle\/0002_integrity_triggers\.sql`/m,
      );
      await caughtAfterSkippingTheHook(
        expect,
        repo,
        /^✖ committed migration 0002_integrity_triggers was deleted \(file or journal entry\): restore it from git/m,
      );
    }),
    60_000,
  );

  it(
    "renamed (file and tag): refused, and caught after --no-verify",
    inRepo(async (expect, repo) => {
      repo.git("mv", "drizzle/0002_integrity_triggers.sql", "drizzle/0002_triggers.sql");
      repo.edit("drizzle/meta/_journal.json", (text) =>
        text.replace('"0002_integrity_triggers"', '"0002_triggers"'),
      );
      repo.git("add", "-A");
      await refused(
        expect,
        repo,
        /^✖ committed migration drizzle\/0002_integrity_triggers\.sql was renamed to drizzle\/0002_triggers\.sql: committed migrations are immutable — rename it back/m,
      );
      await caughtAfterSkippingTheHook(
        expect,
        repo,
        /^✖ committed migration 0002_integrity_triggers was renamed to 0002_triggers: rename it back/m,
      );
    }),
    60_000,
  );

  it(
    "reordered in the journal: refused, and caught after --no-verify",
    inRepo(async (expect, repo) => {
      repo.edit("drizzle/meta/_journal.json", (text) => {
        const journal = JSON.parse(text);
        const [first, second] = journal.entries;
        journal.entries.splice(0, 2, { ...second, idx: 0 }, { ...first, idx: 1 });
        return JSON.stringify(journal, null, 2);
      });
      repo.git("add", "-A");
      await refused(
        expect,
        repo,
        /^✖ drizzle\/meta\/_journal\.json: committed migrations were reordered \(HEAD has 0000_functions, 0001_tables, 0002_integrity_triggers\)/m,
      );
      await caughtAfterSkippingTheHook(
        expect,
        repo,
        /^✖ committed migrations were reordered in the journal/m,
      );
    }),
    60_000,
  );

  it(
    "a line of migrations.sum edited by hand: refused",
    inRepo(async (expect, repo) => {
      repo.edit("drizzle/migrations.sum", (text) => text.replace(/^(0001_tables sql=)\w/m, "$10"));
      repo.git("add", "-A");
      await refused(
        expect,
        repo,
        /^✖ drizzle\/migrations\.sum: the line of committed migration 0001_tables was changed: restore it with `git checkout HEAD -- drizzle\/migrations\.sum`, then run `db generate`/m,
        /^✖ drizzle\/migrations\.sum was edited by hand/m,
      );
    }),
    60_000,
  );

  it(
    "--staged checks the index: an unstaged edit does not refuse a commit, db check sees it",
    inRepo(async (expect, repo) => {
      repo.edit("drizzle/0001_tables.sql", (sql) => `${sql}\n-- not staged\n`);
      repo.edit("src/schema/identity.ts", (text) => `// Teams, users and memberships.\n${text}`);
      repo.git("add", "src/schema/identity.ts");
      const run = await repo.commit("schema comment");
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/^✔ db check: the staged tree passes/m);
      const check = await repo.db("check");
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(
        /^✖ drizzle\/0001_tables\.sql was edited after it was committed/m,
      );
    }),
    60_000,
  );
});
