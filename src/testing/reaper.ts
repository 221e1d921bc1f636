// Whatever a test run leaves behind when it is interrupted goes with it. A throwaway server is
// started by pg_ctl, which detaches it (its own session): it outlives the process that started
// it, and a Ctrl-C, a SIGTERM, a closed terminal or a SIGKILL of `npm test` used to leave every
// server of the run running and its data in /dev/shm. vitest exits 1 ms after SIGINT or SIGTERM
// without running global teardowns, and its workers keep running after it is gone.
//
// So every folder a run must not leave is watched (removeAtExit) by a reaper: a small node
// process started detached (its own session: a terminal's signals do not reach it) that reads a
// pipe from this process. The pipe closes when this process ends, however it ends, and the
// reaper then stops every process that belongs to a watched folder and removes the folder:
// - a process whose command line names the folder (a postmaster's -D, pg_ctl, initdb, a
//   pgbouncer or redis-server configured in it) or whose TMPDIR is in it (everything a test run
//   started after pointing TMPDIR at its scratch folder: workers, CLI calls, their servers);
// - a postmaster gets SIGQUIT (immediate shutdown: it ends its backends and removes its shared
//   memory), then SIGKILL if still there after 3 s; anything else gets SIGKILL;
// - until a look finds none left (a server whose start was under way may appear after the first),
//   then the folder is removed, and looked at once more.
// The same program runs synchronously on SIGINT, SIGTERM and SIGHUP in this process (the graceful
// path: the cleanup is over before the process is; then the process ends as the signal would have
// ended it, unless another handler takes it), and for a folder's normal removal (reapNow),
// so a server a killed worker left is stopped before its folder goes. Linux reads /proc; elsewhere
// `ps` gives the command lines only.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import type { Socket } from "node:net";

/**
 * The reaper program (CommonJS, for `node -e`): `watch` reads + and - lines from stdin and reaps
 * what is left when it closes; `now PATH…` reaps at once; `now-by-command-line PATH…` too, but
 * leaves processes whose only tie is TMPDIR (a run's teardown: its vitest workers may still be
 * there, to be closed by vitest).
 */
const REAPER = String.raw`
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const escape = (s) => s.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");

function processes() {
  const found = [];
  if (fs.existsSync("/proc/self/cmdline")) {
    for (const name of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      let cmdline;
      let environ = "";
      try {
        cmdline = fs.readFileSync("/proc/" + name + "/cmdline", "utf8");
        if (!cmdline || gone(Number(name))) continue;
        environ = fs.readFileSync("/proc/" + name + "/environ", "utf8");
      } catch {
        if (cmdline === undefined) continue;
      }
      const env = environ.split("\0");
      const tmpdir = env.find((v) => v.startsWith("TMPDIR="));
      let ppid;
      try {
        ppid = Number(fs.readFileSync("/proc/" + name + "/stat", "utf8").split(") ")[1].split(" ")[1]);
      } catch {}
      found.push({
        pid: Number(name),
        ppid,
        args: cmdline.split("\0"),
        tmpdir: tmpdir && tmpdir.slice(7),
        reaper: env.includes("KATA_DB_REAPER=1"), // another run's reaper: never
      });
    }
    return found;
  }
  const ps = execFileSync("ps", ["-axww", "-o", "pid=,command="], { encoding: "utf8" });
  for (const line of ps.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[1]) !== process.pid) found.push({ pid: Number(m[1]), args: m[2].split(" ") });
  }
  return found;
}

function gone(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code !== "EPERM";
  }
  try {
    return fs.readFileSync("/proc/" + pid + "/stat", "utf8").split(") ")[1][0] === "Z";
  } catch {
    return false;
  }
}

let byTmpdir = true;

function belongs(p, paths) {
  return paths.some((path) => {
    const named = new RegExp(escape(path) + "($|[/'\"\\s=])");
    return (
      p.args.some((a) => named.test(a)) ||
      (byTmpdir && p.tmpdir !== undefined && (p.tmpdir === path || p.tmpdir.startsWith(path + "/")))
    );
  });
}

/**
 * The processes of these folders, and the descendants of those that are not postmasters (a
 * postmaster ends its backends itself): e.g. what a killed worker's shell had started.
 */
function ours(all, paths) {
  const found = all.filter((p) => !p.reaper && belongs(p, paths));
  const pids = new Set(found.map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      const parent = found.find((f) => f.pid === p.ppid);
      if (!p.reaper && !pids.has(p.pid) && parent && !isPostmaster(parent)) {
        found.push(p);
        pids.add(p.pid);
        grew = true;
      }
    }
  }
  return found;
}

const isPostmaster = (p) => /(^|\/)postgres$/.test(p.args[0]) && p.args.includes("-D");

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {}
}

function reap(paths) {
  if (paths.length === 0) return;
  const until = Date.now() + 20000;
  for (let round = 0; round < 10 && Date.now() < until; round++) {
    const found = ours(processes(), paths);
    if (found.length > 0) {
      for (const p of found) signal(p.pid, isPostmaster(p) ? "SIGQUIT" : "SIGKILL");
      const started = Date.now();
      while (found.some((p) => !gone(p.pid)) && Date.now() - started < 5000) {
        if (Date.now() - started > 3000) for (const p of found) signal(p.pid, "SIGKILL");
        sleep(20);
      }
      continue;
    }
    for (const path of paths) {
      try {
        fs.rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      } catch {}
    }
    sleep(50);
    if (ours(processes(), paths).length === 0) return;
  }
}

const [mode, ...given] = process.argv.slice(1);
if (mode === "now" || mode === "now-by-command-line") {
  byTmpdir = mode === "now";
  reap(given);
} else {
  // Its own session already (detached); a terminal's Ctrl-C or hangup must not end it either.
  for (const name of ["SIGINT", "SIGHUP"]) process.on(name, () => {});
  const watched = new Set();
  let rest = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop();
    for (const line of lines) {
      if (line[0] === "+") watched.add(line.slice(1));
      if (line[0] === "-") watched.delete(line.slice(1));
    }
  });
  const end = () => {
    reap([...watched]);
    process.exit(0);
  };
  process.stdin.on("end", end);
  process.stdin.on("error", end);
}
`;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

let reaper: ChildProcess | undefined;
const watched = new Set<string>();

function tell(line: string): void {
  // A small write to a pipe with nothing queued goes to the kernel at once, so a SIGKILL right
  // after it still leaves the reaper knowing.
  reaper?.stdin?.write(`${line}\n`);
}

function start(): void {
  reaper = spawn(process.execPath, ["-e", REAPER, "watch"], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    cwd: "/",
    env: { ...process.env, KATA_DB_REAPER: "1" },
  });
  reaper.on("error", () => {}); // no reaper (e.g. no fork): the signal handlers still run
  reaper.unref();
  (reaper.stdin as unknown as Socket | null)?.unref();
  for (const name of SIGNALS) {
    // First, so that the other handlers (vitest's, which exits 1 ms later) still see theirs.
    process.prependOnceListener(name, () => {
      reapNow([...watched], { tmpdirToo: true });
      // No one else handles it (SIGHUP, usually): end as the signal would have ended it.
      if (process.listenerCount(name) === 0) process.kill(process.pid, name);
    });
  }
}

/**
 * Stop every process of `path` and remove it when this process ends, however it ends (see the
 * top). Returns the function that forgets it: after removing it yourself, or to keep it.
 */
export function removeAtExit(path: string): () => void {
  if (!reaper) start();
  watched.add(path);
  tell(`+${path}`);
  return () => {
    if (watched.delete(path)) tell(`-${path}`);
  };
}

/**
 * Stop every process of these folders and remove them, now (synchronously). Processes tied to
 * them only by their TMPDIR are left alone unless `tmpdirToo` (see REAPER).
 */
export function reapNow(paths: string[], { tmpdirToo = false } = {}): void {
  if (paths.length === 0) return;
  const mode = tmpdirToo ? "now" : "now-by-command-line";
  spawnSync(process.execPath, ["-e", REAPER, mode, ...paths], {
    stdio: "ignore",
    cwd: "/",
    env: { ...process.env, KATA_DB_REAPER: "1" },
    timeout: 60_000,
  });
  for (const path of paths) {
    if (watched.delete(path)) tell(`-${path}`);
  }
}
