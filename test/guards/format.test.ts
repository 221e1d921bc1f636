// The formatter step of .husky/pre-commit, by real commits: Biome fixes what is staged and the
// fix is what gets committed — also for a file staged in part, whose unstaged lines stay unstaged;
// a lint error Biome cannot fix refuses the commit and leaves the index and the files as they were.

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
});
