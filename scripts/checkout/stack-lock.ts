// One command at a time changes a checkout's local stack. `db up`, `db down`, `db follow` and
// `db reset` each start or stop servers, rename branch copies or recreate the database; two at
// once (two terminals, or git's post-checkout hook running `db follow` while `db up` runs) made
// the second fail half-way, e.g. in pg_ctl ("another server might be running"), or raced on a
// branch copy's rename. Each now holds .data/stack.lock while it works, and one that finds it
// held waits for it, saying so, then goes on from what the first left (usually: already up).
//
// The lock is a file made with O_EXCL, holding the owner's pid and command. A holder that died
// (Ctrl-C, kill -9) is noticed by its pid and its lock taken over; a live one is waited for up to
// WAIT_MS, then the command fails in one line naming it.

import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../basics/env.ts";
import { processExists } from "../basics/system.ts";
import { CliError, info } from "../cli/task.ts";

/** Long enough for a `db up` from nothing on docker (the image's initdb), with room. */
const WAIT_MS = 5 * 60 * 1000;
const POLL_MS = 100;

const lockFile = (config: Config) => join(config.dataDir, "stack.lock");

interface Holder {
  pid: number;
  command: string;
}

function readHolder(file: string): Holder | undefined {
  try {
    const [pid, command] = readFileSync(file, "utf8").split("\n");
    return { pid: Number(pid), command: command ?? "db" };
  } catch {
    return undefined;
  }
}

/** Take the lock, or say who holds it. */
function tryLock(file: string, command: string): Holder | undefined {
  try {
    const fd = openSync(file, "wx");
    writeSync(fd, `${process.pid}\n${command}\n`);
    closeSync(fd);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const holder = readHolder(file);
  // Gone between our open and our read, or half-written just now: try again next poll.
  if (!holder || !Number.isInteger(holder.pid) || holder.pid <= 0) return { pid: 0, command };
  if (!processExists(holder.pid)) {
    // Its holder died. Renamed away first, so that of two processes noticing it, one removes it.
    const stale = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, stale);
      // Another process took it over between our read and our rename: give its lock back (a link
      // makes the name only if nobody has it meanwhile).
      if (readHolder(stale)?.pid !== holder.pid) linkSync(stale, file);
    } catch {}
    rmSync(stale, { force: true });
    return { pid: 0, command };
  }
  return holder;
}

/** Run `work` holding this checkout's stack lock; `command` names it for whoever waits. */
export async function withStackLock<T>(
  config: Config,
  command: string,
  work: () => Promise<T>,
): Promise<T> {
  const file = lockFile(config);
  mkdirSync(config.dataDir, { recursive: true });
  const started = Date.now();
  let told = false;
  for (;;) {
    const holder = tryLock(file, command);
    if (!holder) break;
    if (holder.pid && !told) {
      info(
        `waiting for \`${holder.command}\` (pid ${holder.pid}), which is changing this checkout's stack`,
      );
      told = true;
    }
    if (Date.now() - started > WAIT_MS) {
      throw new CliError(
        `\`${holder.command}\` (pid ${holder.pid}) has been changing this checkout's stack for over ${WAIT_MS / 60_000} minutes: wait for it, or stop it (kill ${holder.pid})`,
      );
    }
    await sleep(POLL_MS);
  }
  try {
    return await work();
  } finally {
    // Only our own: `db down --volumes` may have removed .data/ with it, and another may hold it now.
    if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
  }
}
