// Ports for the servers and listeners the tests start themselves. A port the OS picks (listen on
// port 0, close, hand it out) is free only until someone binds it, and the test files running at
// once all pick from the same ephemeral range: two of them were seen with the same port, one
// test's `db up` then refused because another file's PostgreSQL held it. Each vitest worker
// therefore hands out ports from a block of its own (VITEST_POOL_ID: one file at a time per
// worker), below the ephemeral range (32768 and up on Linux) the OS gives everyone else, and
// apart from `db up`'s own choices near 54329 and 63799 (scripts/checkout/ports.ts).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { portInUse, processExists } from "../../scripts/basics/system.ts";
import { freePort } from "../../src/testing/server.ts";

const FIRST = 20_000;
const BLOCK = 400;
/** 30 blocks of 400: 20000–31999. */
const BLOCKS = 30;

const pool = Number(process.env.VITEST_POOL_ID);
const start =
  Number.isInteger(pool) && pool > 0 ? FIRST + ((pool - 1) % BLOCKS) * BLOCK : undefined;
let next = start;
const end = start === undefined ? 0 : start + BLOCK;

/**
 * Each test file starts at the beginning of its worker's block (test/setup/per-file.ts): a worker
 * runs its files one after another in one process, and the servers of a finished file are gone.
 */
export function resetTestPorts(): void {
  next = start;
}

/**
 * Two test runs at once (two worktrees, or a run beside a soak) have workers with the same pool
 * ids, so the same blocks: a port free when one looked could be bound by the other a moment
 * later. A port handed out is noted in a folder every run shares, by the worker's pid; another
 * live process's note makes it taken. Notes of dead processes are taken over.
 */
// One folder per user: the flake's checks run the suite as `nobody` after root's run, and a note
// left by another user could be neither read nor taken over (EACCES failed every test that asked
// for a port). Notes are a courtesy between runs: one that cannot be made or read is no refusal.
const NOTES = join(
  existsSync("/dev/shm") ? "/dev/shm" : "/tmp",
  `kata-db-test-ports-${process.getuid?.() ?? "user"}`,
);
function note(port: number): boolean {
  const file = join(NOTES, String(port));
  try {
    mkdirSync(NOTES, { recursive: true, mode: 0o700 });
    writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return true; // cannot note: as before
  }
  try {
    const owner = Number(readFileSync(file, "utf8"));
    if (owner !== process.pid && processExists(owner)) return false;
    writeFileSync(file, String(process.pid));
  } catch {
    // Unreadable or not ours to take over: the port is free (portInUse said so), hand it out.
  }
  return true;
}

/** A port of 127.0.0.1 nobody listens on, never handed out twice by this worker's block. */
export async function testPort(): Promise<number> {
  if (next === undefined) return freePort(); // outside vitest's workers
  while (next < end) {
    const port = next++;
    if (!(await portInUse(port, "127.0.0.1").catch(() => true)) && note(port)) return port;
  }
  throw new Error(`test ports ${end - BLOCK}–${end - 1} of this worker are all taken`);
}

/**
 * `count` consecutive ports of this worker's block, never handed out again by it: a range in
 * which no other test file's server listens, for tests of port choices themselves.
 */
export function reservePorts(count: number): number {
  if (next === undefined) throw new Error("reservePorts() runs in a vitest worker only");
  if (next + count > end)
    throw new Error(`fewer than ${count} test ports left in this worker's block`);
  const first = next;
  next += count;
  return first;
}
