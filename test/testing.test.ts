// @kata/db/testing as another package uses it: a separate vitest process on the fixture project in
// test/fixtures/harness (its config is docs/testing.md's), with a cache directory of its own, so what
// is measured is a first run and a second one. Each file gets its own database cloned from the
// template; the second run does not migrate the template again; KATA_KEEP_FAILED_DB=1 keeps a
// failed file's database (and the server under it) and prints how to reach and stop them.

import { execSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT, runProcess } from "./cli/helpers.ts";

const cache = mkdtempSync(join(tmpdir(), "kata-harness-cache-"));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

const VITEST = join(PACKAGE_ROOT, "node_modules", "vitest", "vitest.mjs");
const CONFIG = join(PACKAGE_ROOT, "test", "fixtures", "harness", "vitest.config.ts");

function fixtureRun(env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache, ...env };
  // Always the harness's own throwaway server: what is tested is making and reusing the template.
  delete childEnv.TEST_DATABASE_URL;
  delete childEnv.KATA_KEEP_FAILED_DB;
  delete childEnv.FORCE_COLOR;
  Object.assign(childEnv, { NO_COLOR: "1" }, env);
  return runProcess(
    process.execPath,
    [VITEST, "run", "--config", CONFIG, "--reporter=verbose"],
    childEnv,
  );
}

describe("@kata/db/testing from another package's vitest run", () => {
  it("first run: migrates the template once, and every file and test sees only its own rows", async () => {
    const run = await fixtureRun();
    const output = run.stdout + run.stderr;
    expect(run.code, output).toBe(0);
    expect(output).toMatch(/@kata\/db\/testing: template kata_template_[0-9a-f]{16} migrated now/);
    for (const name of ["first", "second", "per-test-a", "per-test-b"]) {
      expect(output).toContain(`${name}: migrated, and sees only its own rows`);
    }
    expect(output).toMatch(/Tests\s+4 passed \| 1 skipped/);
  });

  it("second run: the same template, not migrated again", async () => {
    const run = await fixtureRun();
    const output = run.stdout + run.stderr;
    expect(run.code, output).toBe(0);
    expect(output).toMatch(/@kata\/db\/testing: template kata_template_[0-9a-f]{16} reused/);
    expect(output).not.toContain("migrated now");
  });

  it("KATA_KEEP_FAILED_DB=1: a failed file's database and its server are kept, with its rows", async () => {
    const run = await fixtureRun({ KATA_KEEP_FAILED_DB: "1", KATA_FIXTURE_FAIL: "1" });
    const output = run.stdout + run.stderr;
    expect(run.code, output).toBe(1);
    const kept = /KATA_KEEP_FAILED_DB: kept (postgres:\/\/\S+)/.exec(output)?.[1];
    const stop = /KATA_KEEP_FAILED_DB: .*stop it with: (.+)$/m.exec(output)?.[1];
    expect(kept, output).toBeDefined();
    expect(stop, output).toBeDefined();
    // Only the failed file's database was kept: the others were dropped as usual.
    const sql = postgres(kept as string, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`SELECT slug FROM teams`;
      expect(rows.map((r) => r.slug)).toEqual(["left-behind"]);
      const left = await sql`SELECT datname FROM pg_database WHERE datname LIKE 'kata\\_test\\_%'`;
      expect(left.map((r) => r.datname)).toEqual([new URL(kept as string).pathname.slice(1)]);
    } finally {
      await sql.end();
      execSync(stop as string, { shell: "/bin/sh" });
    }
    // The printed command stops the server and removes its folder, in that order.
    const folder = /rm -rf "([^"]+)"$/.exec(stop as string)?.[1];
    expect(folder, stop).toBeDefined();
    expect(existsSync(folder as string)).toBe(false);
  });
});
