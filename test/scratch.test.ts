// The global setup's scratch folders (test/setup/scratch.ts): a killed run's folder goes, but
// only once its process is gone and it has been untouched for 6 hours; a fresh one whose pid
// this process cannot see (another PID namespace) and a live run's old one stay.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { removeKilledRuns } from "./setup/scratch.ts";

const parent = mkdtempSync(join(tmpdir(), "kata-scratch-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

function folder(name: string, hoursAgo: number): string {
  const path = join(parent, name);
  mkdirSync(path);
  const at = new Date(Date.now() - hoursAgo * 3600 * 1000);
  utimesSync(path, at, at);
  return name;
}

it("removes a killed run's folder only once untouched for 6 hours; nothing else", () => {
  const dead = spawnSync("true").pid as number;
  const killed = folder(`kata-db-tests-${dead}-killed`, 7);
  const unseen = folder(`kata-db-tests-${dead}-unseen`, 0.1);
  const live = folder(`kata-db-tests-${process.pid}-live`, 7);
  const other = folder("kata-db-test-server", 30);
  removeKilledRuns(parent);
  expect(existsSync(join(parent, killed))).toBe(false);
  expect(readdirSync(parent).sort()).toEqual([other, unseen, live].sort());
});
