// The formatter step of .husky/pre-commit, by real commits: Biome fixes what is staged and the
// fix is what gets committed — also for a file staged in part, whose unstaged lines stay unstaged;
// a lint error Biome cannot fix refuses the commit and leaves the index and the files as they were;
// so does a refusal of the migration guards, Biome's fixes being staged only once both have passed.

import { describe, it } from "vitest";
import { inRepo } from "./repo.ts";

const FILE = "src/format-probe.ts";
const UNFORMATTED = "export const probe   =  { a: 1 ,b:2 }\n";
const FORMATTED = "export const probe = { a: 1, b: 2 };\n";

describe.concurrent("the pre-commit hook's formatter", () => {
  it(
    "a staged file is committed formatted, and the work tree holds the fix too",
    inRepo(async (expect, repo) => {
      repo.write(FILE, UNFORMATTED);
      repo.git("add", FILE);
      const run = await repo.commit("probe");
      expect(run.code, run.stderr).toBe(0);
      expect(repo.git("show", `HEAD:${FILE}`)).toBe(FORMATTED.trim());
      expect(repo.read(FILE)).toBe(FORMATTED);
      expect(repo.git("status", "--porcelain=v1")).toBe("");
    }),
    60_000,
  );

  it(
    "a file staged in part: the staged part is committed formatted, the rest stays unstaged",
    inRepo(async (expect, repo) => {
      repo.write(FILE, UNFORMATTED);
      repo.git("add", FILE);
      repo.write(FILE, `${UNFORMATTED}export const later = 3;\n`);
      const run = await repo.commit("probe");
      expect(run.code, run.stderr).toBe(0);
      expect(repo.git("show", `HEAD:${FILE}`)).toBe(FORMATTED.trim());
      expect(repo.read(FILE)).toContain("export const later = 3;");
      expect(repo.git("diff", "--cached", "--name-only")).toBe("");
      expect(repo.git("diff", "--name-only")).toBe(FILE);
    }),
    60_000,
  );

  it(
    "a lint error Biome cannot fix refuses the commit; the index and the file are as they were",
    inRepo(async (expect, repo) => {
      // noDoubleEquals (recommended) has no safe fix.
      const text = "export const same = (a: number, b: number) =>   a == b;\n";
      repo.write(FILE, text);
      repo.git("add", FILE);
      const before = repo.state();
      const run = await repo.commit("probe");
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/noDoubleEquals/);
      expect(repo.state()).toEqual(before);
      expect(repo.read(FILE)).toBe(text);
    }),
    60_000,
  );

  // Biome's fixes are staged only once the migration guards have passed too (.husky/pre-commit):
  // a refusal from either leaves the index and the files as they were.
  it(
    "a schema change with its migration, beside a file Biome refuses: refused, Biome's finding, the index as it was",
    inRepo(async (expect, repo) => {
      repo.addColumn("teams", "motto");
      await repo.generate("add_team_motto");
      repo.write(FILE, "export const same = (a: number, b: number) => a == b;\n");
      repo.git("add", "-A");
      const before = repo.state();
      const run = await repo.commit("teams.motto");
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/noDoubleEquals/);
      expect(repo.state()).toEqual(before);
    }),
    120_000,
  );

  // Staged whole, Biome fixes the work tree and the fix is staged only when the commit goes ahead;
  // staged in part, lint-staged runs after the guards. Either way the refusal touches nothing.
  it.for<[string, string]>([
    ["formatted by Biome", UNFORMATTED],
    ["beside a file staged in part", `${UNFORMATTED}export const later = 3;\n`],
  ])(
    "a schema change without its migration, %s: refused by the guards, the index and the file as they were",
    { timeout: 120_000 },
    ([, inWorkTree], context) =>
      inRepo(async (expect, repo) => {
        repo.addColumn("teams", "motto");
        repo.write(FILE, UNFORMATTED);
        repo.git("add", "-A");
        repo.write(FILE, inWorkTree);
        const before = repo.state();
        const run = await repo.commit("teams.motto");
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(
          /✖ the staged src\/schema differs from .*: a schema change with no migration/,
        );
        expect(repo.state()).toEqual(before);
        expect(repo.read(FILE)).toBe(inWorkTree);
      })(context),
  );
});
