// One command at a time changes a checkout's stack (scripts/checkout/stack-lock.ts). Two `db up` at
// once on one checkout both succeed: the second waits, says for whom, and finds the stack up (it
// used to fail in pg_ctl). A lock whose holder is alive is waited for until that holder is gone;
// one left by a dead process is taken over at once. No lock is left behind.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { db, makeProject, type Project } from "./helpers.ts";

const WAITING =
  /waiting for `(db [a-z -]+)` \(pid (\d+)\), which is changing this checkout's stack/;

describe("the checkout's stack lock", () => {
  let project: Project;
  const lock = () => join(project.root, ".data", "stack.lock");
  afterAll(async () => {
    if (project) await db(project.root, ["down", "--volumes"]);
  });

  it("two `db up` at once: one waits for the other, both exit 0, the stack is up", async () => {
    project = await makeProject();
    const both = await Promise.all([
      db(project.root, ["up", "--backend", "embedded"]),
      db(project.root, ["up", "--backend", "embedded"]),
    ]);
    for (const run of both) expect(run.code, run.stderr).toBe(0);
    const waited = both.filter((run) => WAITING.test(run.stderr));
    expect(waited).toHaveLength(1);
    expect(waited[0]?.stderr).toMatch(/already running/);
    expect(waited[0]?.stderr.match(WAITING)?.[1]).toBe("db up");
    const status = await db(project.root, ["status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(existsSync(lock())).toBe(false);
  });

  it("a live holder is waited for until it is gone; a dead one's lock is taken at once", async () => {
    // A live holder: a process that runs for a second and never removes the lock itself.
    const holder = spawn("sleep", ["1"]);
    const started = performance.now();
    writeFileSync(lock(), `${holder.pid}\ndb up\n`);
    const waited = await db(project.root, ["up", "--backend", "embedded"]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr.match(WAITING)?.slice(1)).toEqual(["db up", String(holder.pid)]);
    expect(performance.now() - started).toBeGreaterThan(900);

    // A dead one (a `db up` killed with -9 leaves this): no waiting.
    mkdirSync(join(project.root, ".data"), { recursive: true });
    const dead = spawn("true");
    await new Promise((resolve) => dead.once("exit", resolve));
    writeFileSync(lock(), `${dead.pid}\ndb down\n`);
    const taken = await db(project.root, ["down"]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stderr).not.toMatch(WAITING);
    expect(existsSync(lock())).toBe(false);
  });
});
