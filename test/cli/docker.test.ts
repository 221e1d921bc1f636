// The docker backend on a real engine: the whole lifecycle, from nothing to `down --volumes`
// (the failures are in docker-refusals.test.ts, run beside this file). Runs whenever an engine
// answers `docker info` (DOCKER_HOST is honoured); with none, every test here is reported
// skipped with the reason in its name.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeProject } from "../../scripts/backends/docker.ts";
import { sh } from "../../scripts/basics/system.ts";
import { engine, engineState, purge, query, skipped, up } from "./docker-helpers.ts";
import { db, MIGRATION_TAGS, makeProject, PASSWORD, type Project } from "./helpers.ts";

describe.skipIf(!engine.ok)(`db on the docker backend${skipped}`, () => {
  let project: Project;
  let volumes: string[];
  beforeAll(async () => {
    project = await makeProject();
  });
  afterAll(async () => {
    if (project) await purge(project);
  });

  it("the images: the official interface (entrypoint, command, PGDATA); stand-ins labelled", async () => {
    for (const [image, command] of [
      ["postgres:18", "postgres"],
      ["redis:7", "redis-server"],
    ] as const) {
      const inspect = await sh`docker image inspect --format ${"{{json .Config}}"} ${image}`;
      const config = JSON.parse(inspect.stdout) as {
        Entrypoint: string[];
        Cmd: string[];
        Env: string[];
        Labels: Record<string, string> | null;
      };
      expect(config.Entrypoint).toEqual(["docker-entrypoint.sh"]);
      expect(config.Cmd).toEqual([command]);
      if (image === "postgres:18")
        expect(config.Env).toContain("PGDATA=/var/lib/postgresql/18/docker");
      const recipe = config.Labels?.["org.kata-db.stand-in"];
      console.info(`${image}: ${recipe ? `local stand-in (recipe ${recipe})` : "from a registry"}`);
    }
  });

  it("up from nothing: compose up, both servers answering, every migration applied", async () => {
    const result = await up(project);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("backend: docker (--backend docker)");
    expect(result.stderr).toMatch(/✔ docker compose up, PostgreSQL and Redis answering/);
    expect(result.stderr).toContain(`Applied ${MIGRATION_TAGS.length} migrations`);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    const state = await engineState(project);
    expect(state.containers).toEqual(["postgres running", "redis running"]);
    volumes = state.volumes;
    expect(volumes).toEqual([
      `${composeProject(project)}_postgres-data`,
      `${composeProject(project)}_redis-data`,
    ]);
  });

  it("up again: a no-op that says so", async () => {
    const result = await db(project.root, ["up"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("backend: docker (used last time in this directory)");
    expect(result.stderr).toMatch(/PostgreSQL 18\.\d+ and Redis already running \(docker\)/);
    expect(result.stderr).toContain("Migrations of kata up to date");
  });

  it("the server says it is this checkout's (cluster_name)", async () => {
    const [row] = await query<{ name: string }>(
      project.databaseUrl,
      "SELECT current_setting('cluster_name') AS name",
    );
    expect(row?.name).toMatch(/^kata-db:[0-9a-f]{10}:kata-db-cli-/);
  });

  it("status --json: healthy, nothing pending, exit 0", async () => {
    const result = await db(project.root, ["status", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      backend: "docker",
      postgres: {
        url: `postgres://kata:***@127.0.0.1:${project.pgPort}/kata`,
        healthy: true,
        version: expect.stringMatching(/^18\./),
      },
      redis: { url: project.redisUrl, healthy: true },
      migrations: { applied: MIGRATION_TAGS, pending: [], modified: [], unknown: [] },
    });
  });

  it("psql and redis-cli: the clients inside the containers", async () => {
    const psql = await db(project.root, ["psql", "-tAc", "SELECT count(*) FROM users"]);
    expect(psql.code, psql.stderr).toBe(0);
    expect(psql.stdout.trim()).toBe("0");
    const redis = await db(project.root, ["redis-cli", "ping"]);
    expect(redis.code, redis.stderr).toBe(0);
    expect(redis.stdout.trim()).toBe("PONG");
  });

  it("logs: the server's log", async () => {
    const result = await db(project.root, ["logs", "postgres"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("database system is ready to accept connections");
  });

  it("down, then up: containers gone, volumes kept, the same data back", async () => {
    await query(
      project.databaseUrl,
      "INSERT INTO users (email, name) VALUES ('kept@example.com', 'Kept')",
    );
    const down = await db(project.root, ["down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(await engineState(project)).toEqual({ containers: [], volumes });
    const again = await db(project.root, ["up"]);
    expect(again.code, again.stderr).toBe(0);
    const kept = await query(
      project.databaseUrl,
      "SELECT 1 FROM users WHERE email = 'kept@example.com'",
    );
    expect(kept).toHaveLength(1);
  });

  it("reset: drops what was there, re-creates, migrates and seeds", async () => {
    const result = await db(project.root, ["reset", "--yes"]);
    expect(result.code, result.stderr).toBe(0);
    const emails = await query<{ email: string }>(
      project.databaseUrl,
      "SELECT email FROM users ORDER BY email",
    );
    expect(emails.map((row) => row.email)).toEqual(["ada@example.com", "grace@example.com"]);
  });

  it("down --volumes: containers and volumes gone", async () => {
    const result = await db(project.root, ["down", "--volumes"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await engineState(project)).toEqual({ containers: [], volumes: [] });
  });
});
