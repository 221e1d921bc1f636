// Checkouts side by side: two project directories with no .env run `db up` at the same moment.
// Each gets its own ports (near the defaults, never the defaults) and its own server, named by
// cluster_name; no command of one takes the other's server, or a PostgreSQL kata-db did not
// start, for its own: it says whose it is.

import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterName } from "../../scripts/checkout/identity.ts";
import { testContext } from "../../src/testing/index.ts";
import { makeRepo } from "../guards/repo.ts";
import { db, oneLineError, runProcess } from "./helpers.ts";

const made: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  made.push(dir);
  return dir;
};

let state: string;
let a: string;
let b: string;
// The per-user registry of checkouts, private to this file.
const run = (root: string, args: string[], env: Record<string, string> = {}) =>
  db(root, args, { env: { XDG_STATE_HOME: state, ...env } });
const envOf = (root: string) => parseEnv(readFileSync(join(root, ".env"), "utf8"));
const portOf = (url: string | undefined) => Number(new URL(url ?? "").port);

beforeAll(() => {
  state = temp("kata-db-state-");
  a = temp("kata-db-checkout-a-");
  b = temp("kata-db-checkout-b-");
});
afterAll(async () => {
  await Promise.all([a, b].map((root) => run(root, ["down", "--volumes"])));
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe("two checkouts", () => {
  it("run db up at the same time: both healthy, on ports of their own", async () => {
    const [upA, upB] = await Promise.all([
      run(a, ["up", "--backend", "embedded"]),
      run(b, ["up", "--backend", "embedded"]),
    ]);
    expect(upA.code, upA.stderr).toBe(0);
    expect(upB.code, upB.stderr).toBe(0);
    expect(upA.stderr).toContain("Created .env from .env.example, with this checkout's own ports");

    const [envA, envB] = [envOf(a), envOf(b)];
    const ports = [envA.DATABASE_URL, envB.DATABASE_URL, envA.REDIS_URL, envB.REDIS_URL].map(
      portOf,
    );
    expect(new Set(ports).size).toBe(4);
    for (const port of ports) expect([54329, 63799]).not.toContain(port);
    expect(Math.abs((ports[0] as number) - 54329)).toBeLessThan(600);

    for (const [root, env] of [
      [a, envA],
      [b, envB],
    ] as const) {
      const status = await run(root, ["status", "--json"]);
      expect(JSON.parse(status.stdout).postgres.healthy, status.stdout).toBe(true);
      const sql = postgres(env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql`SELECT current_setting('cluster_name') AS name`;
        expect(row?.name).toBe(clusterName(root));
      } finally {
        await sql.end();
      }
    }
  }, 120_000);

  it("no command of one takes the other's server for its own", async () => {
    const other = { DATABASE_URL: envOf(a).DATABASE_URL as string };
    const whose = new RegExp(
      `PostgreSQL at 127\\.0\\.0\\.1:${portOf(other.DATABASE_URL)} is the kata-db checkout ${a.replaceAll(".", "\\.")}'s, not this checkout's`,
    );
    for (const args of [["migrate"], ["seed"], ["reset", "--yes"], ["psql", "-c", "select 1"]]) {
      const result = await run(b, args, other);
      expect(result.code, `${args}: ${result.stderr}`).toBe(1);
      expect(oneLineError(result)).toMatch(whose);
    }
    const status = await run(b, ["status", "--json"], other);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).postgres).toMatchObject({ healthy: false });
    expect(JSON.parse(status.stdout).postgres.reason).toMatch(whose);
  }, 60_000);

  it("db up on a port another checkout's server holds says whose it is", async () => {
    const c = temp("kata-db-checkout-c-");
    const result = await run(c, ["up", "--backend", "embedded"], {
      DATABASE_URL: envOf(a).DATABASE_URL as string,
    });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      new RegExp(`in use by the kata-db checkout ${a.replaceAll(".", "\\.")}'s PostgreSQL`),
    );
  });

  it("a PostgreSQL kata-db did not start is not taken for this checkout's own", async (ctx) => {
    // The suite's own server: started without a kata-db cluster_name, like a system PostgreSQL.
    const url = new URL(testContext().adminUrl);
    // A TEST_DATABASE_URL elsewhere is not "local": nothing to tell apart there.
    if (!["127.0.0.1", "localhost"].includes(url.hostname)) ctx.skip();
    url.pathname = "/postgres";
    const result = await run(b, ["migrate"], { DATABASE_URL: url.toString() });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /is a PostgreSQL not started by this project, not this checkout's/,
    );
  });
});

describe("a repository and its git worktree", () => {
  it("run db up at the same time: both healthy, each on its own ports and server", async () => {
    const repo = await makeRepo();
    const worktree = join(repo.dir, "..", "worktree");
    try {
      // As root the servers run as `postgres`, which must reach both .data/ (mkdtemp gives 0700).
      chmodSync(join(repo.dir, ".."), 0o755);
      repo.git("worktree", "add", "-q", "-b", "feat/side", worktree);
      symlinkSync(join(repo.dir, "node_modules"), join(worktree, "node_modules"));
      const up = (dir: string) =>
        runProcess(join(dir, "scripts", "bin", "db"), ["up", "--backend", "embedded"], repo.env);
      const [main, side] = await Promise.all([up(repo.dir), up(worktree)]);
      expect(main.code, main.stderr).toBe(0);
      expect(side.code, side.stderr).toBe(0);
      const [envMain, envSide] = [envOf(repo.dir), envOf(worktree)];
      expect(portOf(envMain.DATABASE_URL)).not.toBe(portOf(envSide.DATABASE_URL));
      expect(portOf(envMain.REDIS_URL)).not.toBe(portOf(envSide.REDIS_URL));
      for (const dir of [repo.dir, worktree]) {
        const status = await runProcess(
          join(dir, "scripts", "bin", "db"),
          ["status", "--json"],
          repo.env,
        );
        expect(JSON.parse(status.stdout).postgres.healthy, status.stdout).toBe(true);
      }
    } finally {
      for (const dir of [repo.dir, worktree]) {
        await runProcess(join(dir, "scripts", "bin", "db"), ["down", "--volumes"], repo.env);
      }
      repo.remove();
    }
  }, 180_000);
});
