// An interrupted test run leaves nothing behind (src/testing/reaper.ts): a small vitest project on
// this package's own global setup (test/fixtures/interrupt: the scratch folder, the CLI bundle, the
// harness's server, a file with a server of its own) is run as a real process and interrupted at
// points spread over its life — as soon as the harness's server folder exists (its initdb or copy
// under way), as soon as its postmaster.pid does (the server starting), and at random times up to
// well into the tests. Afterwards no process of the run may be left (by the postmaster pids seen,
// by `pgrep -f` on the run's folders, by TMPDIR) and none of its folders.
// The interruptions: SIGINT to the process group (Ctrl-C in a terminal), SIGTERM to vitest alone
// (`kill`), SIGHUP to the group (the terminal closed), SIGKILL to vitest alone (no handler runs:
// the reaper alone). KATA_INTERRUPT_POINTS=N runs N random ones instead (by hand: e.g. 40).

import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryDir } from "../src/testing/server.ts";
import { PACKAGE_ROOT } from "./cli/helpers.ts";

const VITEST = join(PACKAGE_ROOT, "node_modules", "vitest", "vitest.mjs");
const CONFIGS = {
  // This package's own setup: scratch folder, CLI bundle, the harness's server, workers' servers.
  own: join(PACKAGE_ROOT, "test", "fixtures", "interrupt", "vitest.config.ts"),
  // A consumer's: @kata/db/testing alone, as docs/testing.md shows (test/testing.test.ts's project).
  consumer: join(PACKAGE_ROOT, "test", "fixtures", "harness", "vitest.config.ts"),
};
const CLI_CACHE = join(PACKAGE_ROOT, "node_modules", ".cache");

/** A moment of the run: `plus` seconds after vitest started, or after something appeared. */
interface When {
  after: "start" | "server folder" | "postmaster.pid" | "own server";
  plus: number;
}
interface Interruption {
  /** None: no signal, but a worker dies with its server running, and the run goes on to its end. */
  signal: "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGKILL" | "none";
  to: "group" | "vitest";
  at: When;
  project?: keyof typeof CONFIGS;
}

const random = (from: number, to: number) =>
  Math.round((from + Math.random() * (to - from)) * 10) / 10;
const at = (after: When["after"], plus = 0): When => ({ after, plus });

function interruptions(): Interruption[] {
  const count = Number(process.env.KATA_INTERRUPT_POINTS);
  if (count > 0) {
    const kinds: Pick<Interruption, "signal" | "to">[] = [
      { signal: "SIGINT", to: "group" },
      { signal: "SIGINT", to: "vitest" },
      { signal: "SIGTERM", to: "vitest" },
      { signal: "SIGTERM", to: "group" },
      { signal: "SIGHUP", to: "group" },
      { signal: "SIGKILL", to: "vitest" },
    ];
    const afters: When["after"][] = ["start", "server folder", "postmaster.pid", "own server"];
    return Array.from({ length: count }, (_, i) => {
      const after = afters[Math.floor(Math.random() * afters.length)] as When["after"];
      // Every fifth a consumer's run, which has no worker's server of its own to wait for.
      const consumer = i % 5 === 4;
      const point = consumer && after === "own server" ? "postmaster.pid" : after;
      return {
        ...(kinds[i % kinds.length] as Pick<Interruption, "signal" | "to">),
        // A consumer's run is short: its moments come sooner.
        at: at(
          point,
          point === "start" ? random(0.3, consumer ? 2 : 4) : random(0, consumer ? 0.5 : 1.5),
        ),
        ...(consumer ? { project: "consumer" as const } : {}),
      };
    });
  }
  return [
    // The harness's server folder exists: its cluster is being copied or initdb'd.
    { signal: "SIGINT", to: "group", at: at("server folder") },
    // Its postmaster.pid exists: the server is starting (or the template's being prepared).
    { signal: "SIGINT", to: "group", at: at("postmaster.pid") },
    // A test file's own server runs in a worker.
    { signal: "SIGINT", to: "group", at: at("own server", random(0, 1)) },
    { signal: "SIGTERM", to: "vitest", at: at("start", random(0.3, 3)) },
    { signal: "SIGHUP", to: "group", at: at("server folder", random(0, 1.5)) },
    // No handler runs: the reaper alone, with the workers and their servers still there.
    { signal: "SIGKILL", to: "vitest", at: at("own server") },
    // The teardown's part: the server of a worker that died without its afterAll.
    { signal: "none", to: "vitest", at: at("start") },
    // A consumer's run, its server starting.
    { signal: "SIGINT", to: "group", at: at("postmaster.pid"), project: "consumer" },
  ];
}

/** A run's folders: every one is named by its vitest's pid (src/testing/server.ts, test/setup). */
function folders(pid: number): string[] {
  const list = (dir: string, pattern: RegExp) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => pattern.test(name))
          .map((name) => join(dir, name))
      : [];
  return [
    ...list(memoryDir(), new RegExp(`^kata-db-tests?-${pid}-`)),
    ...list(CLI_CACHE, new RegExp(`^kata-db-test-cli-${pid}-`)),
  ];
}

/** postmaster.pid files up to three levels under the folders: the servers running from them. */
function postmasters(dirs: string[]): number[] {
  const pids: number[] = [];
  const visit = (dir: string, depth: number) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    if (names.includes("postmaster.pid")) {
      const pid = Number(readFileSync(join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pid > 0) pids.push(pid);
    }
    if (depth > 0) for (const name of names) visit(join(dir, name), depth - 1);
  };
  for (const dir of dirs) visit(dir, 3);
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
};

/** `pgrep -af PATTERN`; where there is no pgrep (a Nix build sandbox), the same from /proc. */
function pgrep(pattern: string): string[] {
  try {
    return execFileSync("pgrep", ["-af", pattern], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch (error) {
    if ((error as { status?: number }).status === 1) return []; // none
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const regex = new RegExp(pattern);
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .flatMap((name) => {
      try {
        const args = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
        return regex.test(args) ? [`${name} ${args}`] : [];
      } catch {
        return [];
      }
    });
}

/** What is left of the run: processes naming its folders or with TMPDIR in one, and folders. */
function leftovers(pid: number, seen: Set<number>, scratch: string | undefined): string[] {
  const left: string[] = [];
  for (const p of seen) if (alive(p)) left.push(`postmaster ${p}`);
  for (const line of pgrep(`kata-db-test(s|-cli)?-${pid}-`))
    left.push(`process ${line.slice(0, 160)}`);
  if (scratch) {
    for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const environ = readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
        if (environ.includes(`TMPDIR=${scratch}`) && alive(Number(name)))
          left.push(`process ${name} (TMPDIR)`);
      } catch {}
    }
  }
  for (const dir of folders(pid)) left.push(`folder ${dir}`);
  return left;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  interruption: Interruption;
  /** When it was sent, in seconds after the start; undefined: the run ended first. */
  sentAt?: number;
  ended: string;
  /** Postmasters seen running from the run's folders. */
  servers: number;
  left: string[];
}

async function interruptedRun(interruption: Interruption): Promise<Outcome> {
  const workerDies = interruption.signal === "none";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: "1",
    KATA_FIXTURE_BUSY_MS: workerDies ? "0" : "60000",
    KATA_FIXTURE_KILL_WORKER: workerDies ? "1" : "0",
  };
  for (const name of ["TEST_DATABASE_URL", "KATA_KEEP_FAILED_DB", "FORCE_COLOR"]) delete env[name];
  // Its own process group, as a terminal would start it, so a signal can go to all of it.
  const config = CONFIGS[interruption.project ?? "own"];
  const child = spawn(process.execPath, [VITEST, "run", "--config", config], {
    env,
    detached: true,
    stdio: ["ignore", "ignore", "ignore"],
  });
  const pid = child.pid as number;
  const started = performance.now();
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? `exit ${code}`)),
  );
  let done = false;
  void exited.then(() => (done = true));
  const seen = new Set<number>();
  let scratch: string | undefined;
  let sentAt: number | undefined;
  let since: number | undefined;
  /** Whether the moment has come: when `at.after` first appears, then `at.plus` later. */
  const due = (mine: string[]) => {
    const { after, plus } = interruption.at;
    const server = mine.find((dir) => /kata-db-test-\d+-/.test(dir));
    const own = scratch
      ? readdirSync(scratch).some(
          (n) =>
            n.startsWith("kata-interrupt-") &&
            existsSync(join(scratch as string, n, "data", "postmaster.pid")),
        )
      : false;
    const appeared =
      after === "start" ||
      (after === "server folder" && server !== undefined) ||
      (after === "postmaster.pid" &&
        server !== undefined &&
        existsSync(join(server, "data", "postmaster.pid"))) ||
      (after === "own server" && own);
    if (appeared) since ??= performance.now();
    return since !== undefined && performance.now() - since >= plus * 1000;
  };
  while (!done) {
    const mine = folders(pid);
    scratch ??= mine.find((dir) => /kata-db-tests-\d+-/.test(dir));
    for (const p of postmasters(mine)) seen.add(p);
    if (sentAt === undefined && due(mine)) {
      sentAt = (performance.now() - started) / 1000;
      if (!workerDies) process.kill(interruption.to === "group" ? -pid : pid, interruption.signal);
    }
    if (performance.now() - started > 60_000) process.kill(-pid, "SIGKILL"); // never hang here
    await sleep(sentAt === undefined ? 10 : 50);
  }
  const ended = await exited;
  // The reaper works after vitest is gone (SIGKILL; workers still running): give it a moment.
  let left = leftovers(pid, seen, scratch);
  for (let waited = 0; left.length > 0 && waited < 10_000; waited += 100) {
    await sleep(100);
    left = leftovers(pid, seen, scratch);
  }
  return {
    interruption,
    ...(sentAt !== undefined ? { sentAt } : {}),
    ended,
    servers: seen.size,
    left,
  };
}

describe.skipIf(process.platform !== "linux")("an interrupted test run", () => {
  it(
    "stops every server it started and removes its folders, however and whenever it is interrupted",
    async () => {
      const outcomes: Outcome[] = [];
      const queue = interruptions();
      // Three at a time: each is a vitest of its own, and this machine has two cores.
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            outcomes.push(await interruptedRun(next));
          }
        }),
      );
      const report = outcomes
        .map(
          (o) =>
            `${o.interruption.project ?? "own"} run: ${o.interruption.signal} to ${o.interruption.to}, ${o.interruption.at.plus} s after ${o.interruption.at.after}` +
            `${o.sentAt === undefined ? " (ended first)" : ` (sent at ${o.sentAt.toFixed(1)} s)`}: ` +
            `${o.ended}, ${o.servers} server(s) seen; left: ${o.left.join("; ") || "nothing"}`,
        )
        .join("\n");
      if (process.env.KATA_INTERRUPT_POINTS) console.log(report);
      expect(
        outcomes.flatMap((o) => o.left),
        report,
      ).toEqual([]);
      // The points were reached: some interruptions came with servers running.
      expect(
        outcomes.some((o) => o.servers > 0),
        report,
      ).toBe(true);
      for (const o of outcomes) expect(o.sentAt, report).toBeDefined();
      // A failing run fails: the dead worker's file made the run exit non-zero.
      for (const o of outcomes.filter((o) => o.interruption.signal === "none")) {
        expect(o.ended, report).toBe("exit 1");
        expect(o.servers, report).toBe(2);
      }
    },
    Number(process.env.KATA_INTERRUPT_POINTS) > 0 ? 3_600_000 : 120_000,
  );
});
