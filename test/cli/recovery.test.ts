// A machine with only Node (no Docker, no PostgreSQL, no Redis on PATH): `db up` picks embedded by
// itself, survives a Ctrl-C in the middle of initdb, and runs without Redis, saying so.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bareBin, db, makeProject, type Project, removeProject } from "./helpers.ts";

describe("db up on a bare machine", () => {
  let project: Project;
  let path: string;
  const run = (args: string[], onSpawn?: (pid: number) => void) =>
    db(project.root, args, { path, ...(onSpawn ? { onSpawn } : {}) });
  const data = () => join(project.root, ".data");

  beforeAll(async () => {
    project = await makeProject();
    path = bareBin();
  });
  afterAll(async () => {
    const down = await run(["down", "--volumes"]);
    expect(down.code, down.stderr).toBe(0);
    removeProject(project);
  });

  it("Ctrl-C during initdb leaves nothing the next `db up` cannot recover from", async () => {
    // Also what an older interrupted run left: a half-made cluster and a password file.
    const dead = spawnSync("true").pid as number;
    mkdirSync(join(data(), `postgres.init-${dead}`), { recursive: true });
    writeFileSync(join(data(), `.pwfile-${dead}`), "secret\n");

    let interrupted = false;
    const first = await run(["up"], (pid) => {
      const poll = setInterval(() => {
        if (readdirSync(data()).some((entry) => entry === `postgres.init-${pid}`)) {
          clearInterval(poll);
          interrupted = true;
          process.kill(-pid, "SIGINT"); // the whole process group, like a terminal's Ctrl-C
        }
      }, 2);
      setTimeout(() => clearInterval(poll), 10_000);
    });
    expect(interrupted).toBe(true);
    expect(first.code).not.toBe(0);
    expect(existsSync(join(data(), "postgres", "PG_VERSION"))).toBe(false);

    const second = await run(["up"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      "backend: embedded (the docker command is not installed, and no PostgreSQL 18 on PATH",
    );
    expect(readdirSync(data()).sort()).toEqual(["applied-sql", "backend", "postgres"]);
  });

  it("without redis-server, `db up` succeeds for PostgreSQL and says how to get Redis", async () => {
    const result = await run(["up"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      "⚠ Redis unavailable: redis-server is not on PATH: install Redis 7",
    );
    expect(result.stdout).toContain(`REDIS_URL=${project.redisUrl}  (unavailable)`);
  });

  it("status --json reports Redis unhealthy with the reason, and is still clean", async () => {
    const result = await run(["status", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.postgres.healthy).toBe(true);
    expect(status.redis).toEqual({
      url: project.redisUrl,
      healthy: false,
      reason: expect.stringContaining("redis-server is not on PATH"),
    });
  });
});
