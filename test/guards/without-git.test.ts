// Where there is no git (the Nix build sandbox has no .git) `db check` still verifies integrity,
// collisions and drift, and says what it skipped; installing the hooks (`prepare`) is harmless
// without git, with HUSKY=0 and without dev dependencies; scratch folders never outlive a run.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type Repo } from "./repo.ts";

const prepare = (repo: Repo, env: NodeJS.ProcessEnv = {}) =>
  execFileSync("node", [".husky/install.mjs"], {
    cwd: repo.dir,
    env: { ...repo.env, ...env },
    encoding: "utf8",
  });

describe("without git", () => {
  let repo: Repo;

  beforeAll(async () => {
    repo = await makeRepo({ git: false });
  }, 60_000);
  afterAll(() => repo?.remove());

  it("db check runs integrity, collisions and drift, and names what it skipped", async () => {
    const run = await repo.db("check");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^• history: skipped — no git here/m);
    expect(run.stderr).toMatch(/^• squawk: skipped — no git here: cannot tell new migrations/m);
    expect(run.stderr).toMatch(
      /^• transactions: skipped — no git here: cannot tell new migrations from committed ones \(the migrator still refuses such a file where it is pending\)/m,
    );
    expect(run.stderr).toMatch(/^✔ integrity: 3 migrations match drizzle\/migrations\.sum/m);
    expect(run.stderr).toMatch(
      /^✔ schema: src\/schema matches drizzle\/meta\/0002_snapshot\.json/m,
    );
    expect(repo.leftovers()).toEqual([]);
  }, 60_000);

  it("finds an edited migration and a schema change without migration", async () => {
    const sql = repo.read("drizzle/0001_tables.sql");
    const schema = repo.read("src/schema/identity.ts");
    try {
      repo.write("drizzle/0001_tables.sql", `${sql}-- edited\n`);
      repo.addColumn("teams", "quota");
      const run = await repo.db("check");
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^✖ drizzle\/0001_tables\.sql changed after it was committed/m);
      expect(run.stderr).toMatch(/^✖ src\/schema differs from drizzle\/meta\/0002_snapshot\.json/m);
      expect(run.stderr).toMatch(/^✖ db check: 2 findings in the working tree/m);
      expect(repo.leftovers()).toEqual([]);
    } finally {
      repo.write("drizzle/0001_tables.sql", sql);
      repo.write("src/schema/identity.ts", schema);
    }
  }, 60_000);

  it("--staged and --base need git: one line saying so", async () => {
    for (const flag of ["--staged", "--base=main"]) {
      const run = await repo.db("check", flag);
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toMatch(/^✖ `db check --(staged|base)` needs git and a repository/);
    }
  }, 60_000);

  it("db generate --custom records the new file; without git a later edit is never re-hashed", async () => {
    const saved = repo.path("../drizzle-saved");
    cpSync(repo.path("drizzle"), saved, { recursive: true });
    try {
      const custom = await repo.db("generate", "--custom", "--name", "backfill");
      expect(custom.code, custom.stderr).toBe(0);
      expect(custom.stderr).toMatch(/^✔ Recorded 0003_backfill in drizzle\/migrations\.sum/m);
      expect(custom.stderr).toMatch(/Fill in the new SQL file, then run `db generate` again/);
      repo.edit("drizzle/0003_backfill.sql", (sql) => `${sql}UPDATE teams SET name = name;\n`);
      const again = await repo.db("generate");
      expect(again.stderr).toMatch(/^✔ drizzle\/migrations\.sum up to date/m);
      const check = await repo.db("check");
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(
        /^✖ drizzle\/0003_backfill\.sql changed after it was committed/m,
      );
    } finally {
      rmSync(repo.path("drizzle"), { recursive: true });
      cpSync(saved, repo.path("drizzle"), { recursive: true });
      rmSync(saved, { recursive: true });
    }
  }, 60_000);

  it("prepare (npm ci) installs no hooks and succeeds", () => {
    expect(prepare(repo)).toMatch(/husky: git hooks not installed \(\.git can't be found\)/);
    expect(existsSync(repo.path(".husky/_"))).toBe(false);
  });

  it("an interrupted db check removes its scratch folder", async () => {
    // A schema file drizzle-kit has not judged yet (a new comment): the check asks it, rather
    // than reusing the verdict of the first test, and lasts long enough to be interrupted.
    // On a loaded machine the poll below may see the folder only as the check ends, and the
    // signal then finds it done (exit 0): such a try interrupted nothing, and another is made.
    const schema = repo.read("src/schema/identity.ts");
    const { runProcess } = await import("../cli/helpers.ts");
    try {
      let code: number | null = 0;
      for (let attempt = 0; attempt < 3 && code === 0; attempt++) {
        repo.write("src/schema/identity.ts", `${schema}// interrupted ${Date.now()}\n`);
        let pid = 0;
        const running = runProcess(repo.path("scripts/bin/db"), ["check"], repo.env, (p) => {
          pid = p;
        });
        const started = Date.now();
        while (repo.leftovers().length === 0 && Date.now() - started < 20_000) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(repo.leftovers()).toHaveLength(1);
        process.kill(-pid, "SIGINT");
        ({ code } = await running);
        expect(repo.leftovers()).toEqual([]);
      }
      expect(code).toBe(130);
    } finally {
      repo.write("src/schema/identity.ts", schema);
    }
  }, 60_000);
});

describe("prepare with git", () => {
  let repo: Repo;

  beforeAll(async () => {
    repo = await makeRepo();
  }, 60_000);
  afterAll(() => repo?.remove());

  it("installs the hooks; HUSKY=0 and a missing husky (npm ci --omit=dev) skip quietly", () => {
    expect(repo.git("config", "core.hooksPath")).toBe(".husky/_");
    // Runnable where there is no /usr/bin/env (the Nix build sandbox): husky writes `env sh`.
    expect(repo.read(".husky/_/pre-commit").split("\n")[0]).toBe("#!/bin/sh");
    repo.git("config", "--unset", "core.hooksPath");
    rmSync(repo.path(".husky/_"), { recursive: true });

    expect(prepare(repo, { HUSKY: "0" })).toMatch(
      /husky: git hooks not installed \(HUSKY=0 skip install\)/,
    );
    expect(() => repo.git("config", "core.hooksPath")).toThrow();

    rmSync(repo.path("node_modules/husky"));
    expect(prepare(repo)).toMatch(/husky: git hooks not installed \(husky is a dev dependency/);
    expect(() => repo.git("config", "core.hooksPath")).toThrow();
  });
});
