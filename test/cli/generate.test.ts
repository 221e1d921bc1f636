// `db generate` must never mistake drizzle-kit's rename question for "no changes": without a
// terminal drizzle-kit prints "Interactive prompts require a TTY terminal", writes nothing and
// exits 0. Run on a copy of the package (its own src/schema and drizzle/), never on the real one.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject } from "../helpers/project-copy.ts";
import { oneLineError, runProcess } from "./helpers.ts";

describe("db generate without a terminal", () => {
  let copy: string;
  const generate = (...args: string[]) =>
    runProcess(join(copy, "scripts", "bin", "db"), ["generate", ...args]);
  const renameSlug = () => {
    const identity = join(copy, "src", "schema", "identity.ts");
    const source = readFileSync(identity, "utf8");
    writeFileSync(
      identity,
      source.replace("slug: text()", "handle: text()").replaceAll("t.slug", "t.handle"),
    );
  };

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), "kata-db-package-"));
    copyProject(copy);
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it("with no schema change: says so and exits 0", async () => {
    const result = await generate();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("No schema changes");
  });

  it("with a possible rename: names the table and columns and the flag, and writes nothing", async () => {
    renameSlug();
    const before = readdirSync(join(copy, "drizzle"));

    const result = await generate();
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /drizzle-kit asks whether column handle of table teams is new or renamed from slug, and there is no terminal to answer: run `db generate --rename teams\.slug=handle` \(or `--create teams\.handle` if it is new\)/,
    );
    expect(readdirSync(join(copy, "drizzle"))).toEqual(before);
  });

  it("--rename table.old=new answers it: ALTER TABLE … RENAME COLUMN, no terminal needed", async () => {
    const before = new Set(readdirSync(join(copy, "drizzle")));
    const result = await generate("--rename", "teams.slug=handle", "--name", "rename_slug");
    expect(result.code, result.stderr).toBe(0);
    const added = readdirSync(join(copy, "drizzle")).filter((f) => !before.has(f));
    expect(added).toEqual([expect.stringMatching(/^\d{4}_rename_slug\.sql$/)]);
    const sql = readFileSync(join(copy, "drizzle", added[0] as string), "utf8");
    expect(sql).toContain('ALTER TABLE "teams" RENAME COLUMN "slug" TO "handle";');
    expect(sql).not.toMatch(/DROP COLUMN|ADD COLUMN/);
    // Recorded like any generated migration: the integrity file agrees, drift finds nothing.
    const check = await runProcess(join(copy, "scripts", "bin", "db"), ["check"]);
    expect(check.code, check.stderr).toBe(0);
  }, 60_000);

  it("--rename old=new renames a table; a flag that answers nothing asked is refused", async () => {
    const identity = join(copy, "src", "schema", "identity.ts");
    writeFileSync(
      identity,
      readFileSync(identity, "utf8").replace('pgTable(\n  "teams"', 'pgTable(\n  "groups"'),
    );
    const wrong = await generate("--rename", "teams=crews");
    expect(wrong.code).toBe(1);
    expect(oneLineError(wrong)).toMatch(/`db generate --rename teams=groups`/);
    const result = await generate("--rename", "teams=groups", "--name", "rename_teams");
    expect(result.code, result.stderr).toBe(0);
    const file = readdirSync(join(copy, "drizzle")).find((f) => f.endsWith("_rename_teams.sql"));
    const sql = readFileSync(join(copy, "drizzle", file as string), "utf8");
    expect(sql).toContain('ALTER TABLE "teams" RENAME TO "groups";');
    expect(sql).not.toMatch(/CREATE TABLE|DROP TABLE/);
  }, 60_000);

  it("a malformed --rename is a usage error", async () => {
    const result = await generate("--rename", "teams.slug");
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(/--rename takes table\.old_column=new_column/);
  });
});
