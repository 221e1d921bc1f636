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
  const generate = () => runProcess(join(copy, "scripts", "bin", "db"), ["generate"]);

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

  it("with a possible rename: fails with what to do, and writes nothing", async () => {
    const identity = join(copy, "src", "schema", "identity.ts");
    const source = readFileSync(identity, "utf8");
    writeFileSync(
      identity,
      source.replace("slug: text()", "handle: text()").replaceAll("t.slug", "t.handle"),
    );
    const before = readdirSync(join(copy, "drizzle"));

    const result = await generate();
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /drizzle-kit needs to ask whether something was renamed, and there is no terminal: run `db generate` in a terminal/,
    );
    expect(readdirSync(join(copy, "drizzle"))).toEqual(before);
  });
});
