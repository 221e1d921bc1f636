// scripts/bin/db keeps one bundle of the CLI per state of the sources, in the node_modules cache
// the packages live in, and each build cleans up old ones. A bundle run lately is never cleaned up:
// a command loads its chunks while it runs, and a test run once lost, that way, the bundle its
// previous run had made and it was using. Real builds, in a copy of this checkout.

import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { atFileEnd } from "../helpers/file-end.ts";
import { copyProject, PACKAGE_ROOT } from "../helpers/project-copy.ts";

const BUNDLES = join(
  dirname(realpathSync(join(PACKAGE_ROOT, "node_modules", "esbuild"))),
  ".cache",
  "kata-db",
  "cli",
);

/** A stand-in for an old bundle: made (and, with `used`, last run) that many days ago. */
function oldBundle(name: string, madeDaysAgo: number, usedDaysAgo?: number): string {
  const dir = join(BUNDLES, name);
  mkdirSync(dir, { recursive: true });
  atFileEnd(() => rmSync(dir, { recursive: true, force: true }));
  const ago = (days: number) => new Date(Date.now() - days * 86_400_000);
  writeFileSync(join(dir, "db.mjs"), "");
  if (usedDaysAgo !== undefined) {
    writeFileSync(join(dir, "used"), "");
    utimesSync(join(dir, "used"), ago(usedDaysAgo), ago(usedDaysAgo));
  }
  utimesSync(dir, ago(madeDaysAgo), ago(madeDaysAgo));
  return dir;
}

it("a build removes bundles neither made nor run in the last week, and stamps the one it runs", () => {
  const project = mkdtempSync(join(tmpdir(), "kata-bundle-cache-"));
  atFileEnd(() => rmSync(project, { recursive: true, force: true }));
  copyProject(project);
  const id = `test-${process.pid}-${Date.now()}`;
  const forgotten = oldBundle(`${id}-forgotten`, 30);
  const runLately = oldBundle(`${id}-run-lately`, 30, 0);
  const runLongAgo = oldBundle(`${id}-run-long-ago`, 30, 9);

  // Sources no bundle was made of: this call builds one, and cleans up.
  appendFileSync(join(project, "scripts", "db.ts"), `\n// ${id}\n`);
  execFileSync(join(project, "scripts", "bin", "db"), ["--help"], { stdio: "pipe" });
  const key = readFileSync(
    join(project, "node_modules", ".cache", "kata-db", `${project.replaceAll("/", "_")}.key`),
    "utf8",
  ).trim();
  atFileEnd(() => rmSync(join(BUNDLES, key), { recursive: true, force: true }));

  expect(existsSync(forgotten)).toBe(false);
  expect(existsSync(runLongAgo)).toBe(false);
  expect(existsSync(runLately)).toBe(true);
  expect(Date.now() - statSync(join(BUNDLES, key, "used")).mtimeMs).toBeLessThan(60_000);
});
