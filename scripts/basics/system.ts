// Cheap questions about this machine, answered without spawning a process: the fast path of
// `db up` (everything already running) must not pay for `pg_ctl status` or `which`.

import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { $ } from "zx/core";

/** zx's $ without echoing the child's stderr: failures are reported as one line by task(). */
export const sh = $({ quiet: true });

/**
 * Call `attempt` until it stops throwing, at most `times` times, waiting 10 ms after the first
 * failure and twice as long after each next one, up to `maxDelayMs`; the last error is thrown.
 * (zx's retry and expBackoff did this, but come only with zx's full entry point, ~0.05 s of
 * start-up for every `db` call.)
 */
export async function retry<T>(
  times: number,
  maxDelayMs: number,
  attempt: () => T | Promise<T>,
): Promise<T> {
  for (let n = 1, delay = 10; ; n++, delay = Math.min(delay * 2, maxDelayMs)) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= times) throw error;
      await sleep(delay);
    }
  }
}

/** The executable `name` on PATH, like `which`. */
export function which(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/**
 * True when a process with this id runs. EPERM: it does, as another user. On Linux a zombie
 * (exited, not yet reaped — a container's PID 1 may take a second or more) counts as gone.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // The state follows the parenthesised command name: "1234 (redis-server) Z …".
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    // No such file: gone on Linux; no /proc at all (macOS): kill() already said it runs.
    return !existsSync("/proc/self/stat");
  }
}

/** The process id on the first line of a pid file (postmaster.pid, redis.pid), if it is alive. */
export function livePid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
  } catch {
    return undefined;
  }
  return pid > 0 && processExists(pid) ? pid : undefined;
}

/** True when something already listens on host:port (we try to listen there ourselves). */
export function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "EADDRINUSE" ? resolve(true) : reject(error),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The address a local server listens on for a URL host ("localhost" is 127.0.0.1). */
export const listenAddress = (host: string) =>
  host === "localhost" ? "127.0.0.1" : host.replace(/^\[(.*)\]$/, "$1");

/**
 * Run a program attached to the terminal (psql, redis-cli, tail -F) and return its exit code.
 * Ctrl-C reaches the whole process group: it belongs to the program (cancel a query), so we
 * ignore it meanwhile instead of dying and leaving the program orphaned on the terminal.
 */
export async function interactive(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<number> {
  const ignore = () => {};
  process.on("SIGINT", ignore);
  try {
    // NO_COLOR for the programs that only read FORCE_COLOR (chalk's, e.g. drizzle-kit's).
    const noColour = process.env.NO_COLOR ? { FORCE_COLOR: "0" } : {};
    const run = $({
      stdio: "inherit",
      nothrow: true,
      env: { ...process.env, ...noColour, ...env },
    });
    return (await run`${file} ${args}`).exitCode ?? 1;
  } finally {
    process.off("SIGINT", ignore);
  }
}
