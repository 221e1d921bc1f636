// The docker backend on a real engine: the whole lifecycle, and the failures that once went wrong
// there (another server at DATABASE_URL's port, a port taken by another program, a password
// changed after the volume exists, two checkouts with the same directory name). Each failure: one
// line saying what holds the port (or what changed) and what to do, exit 1, no container of this
// checkout left created or started by the failed `db up`, and the data that was there kept.
// Runs whenever an engine answers `docker info` (DOCKER_HOST is honoured); with none, every test
// here is reported skipped with the reason in its name.

import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { composeProject, dockerEngine } from "../../scripts/backends/docker.ts";
import { sh } from "../../scripts/lib/system.ts";
import { freePort } from "../../src/testing/server.ts";
import {
  db,
  MIGRATION_TAGS,
  makeProject,
  oneLineError,
  PASSWORD,
  type Project,
  removeProject,
} from "./helpers.ts";

const engine = await dockerEngine();
const skipped = engine.ok ? "" : ` — skipped: ${engine.why}`;
if (!engine.ok) console.info(`docker backend tests skipped: ${engine.why}`);

// Real containers: a `db up` from nothing takes 3–10 s on a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const up = (project: Project) => db(project.root, ["up", "--backend", "docker"]);

/** A query on the project's database, through its URL (or another one). */
async function query<T>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

/** The project's containers ("name state") and volumes, as the engine lists them. */
async function engineState(project: Project) {
  const label = `label=com.docker.compose.project=${composeProject(project)}`;
  const [containers, volumes] = await Promise.all([
    sh`docker ps --all --filter ${label} --format ${'{{.Label "com.docker.compose.service"}} {{.State}}'}`,
    sh`docker volume ls --quiet --filter ${label}`,
  ]);
  const lines = (text: string) => text.split("\n").filter(Boolean).sort();
  return { containers: lines(containers.stdout), volumes: lines(volumes.stdout) };
}

/** Everything of the project gone from the engine, whatever state the test left it in. */
async function purge(project: Project) {
  const down = await db(project.root, ["down", "--volumes"]);
  expect(down.code, down.stderr).toBe(0);
  expect(await engineState(project)).toEqual({ containers: [], volumes: [] });
  removeProject(project);
}

/**
 * A project directory named `db` inside a fresh temp directory: two of them are checkouts with
 * the same directory name, which once shared one compose project and its volumes.
 */
async function namedDb(): Promise<Project> {
  const outer = await makeProject();
  const root = join(outer.root, "db");
  mkdirSync(root, { mode: 0o755 });
  writeFileSync(
    join(root, ".env"),
    `DATABASE_URL=${outer.databaseUrl}\nREDIS_URL=${outer.redisUrl}\n`,
  );
  return { ...outer, root };
}

/** Point a project at other ports (a fresh .env with the same password). */
async function movePorts(project: Project, pgPort?: number, redisPort?: number): Promise<Project> {
  const moved = { ...project };
  moved.pgPort = pgPort ?? (await freePort());
  moved.redisPort = redisPort ?? (await freePort());
  moved.databaseUrl = `postgres://kata:${PASSWORD}@127.0.0.1:${moved.pgPort}/kata`;
  moved.redisUrl = `redis://127.0.0.1:${moved.redisPort}`;
  writeFileSync(
    join(project.root, ".env"),
    `DATABASE_URL=${moved.databaseUrl}\nREDIS_URL=${moved.redisUrl}\n`,
  );
  return moved;
}

/** A loopback listener that accepts connections and closes them (another program). */
function squat(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

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

  it("up from nothing: compose up --wait, every migration applied", async () => {
    const result = await up(project);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("backend: docker (--backend docker)");
    expect(result.stderr).toMatch(/✔ docker compose up --wait/);
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

describe.skipIf(!engine.ok)(
  `db up on the docker backend refuses, leaving nothing half-started${skipped}`,
  () => {
    const projects: Project[] = [];
    afterAll(async () => {
      for (const project of projects) await purge(project);
    });
    /** A new project, up, with one row of its own (kept@example.com) to look for afterwards. */
    async function upWithData(): Promise<Project> {
      const project = await makeProject();
      projects.push(project);
      const first = await up(project);
      expect(first.code, first.stderr).toBe(0);
      await query(
        project.databaseUrl,
        "INSERT INTO users (email, name) VALUES ('kept@example.com', 'Kept')",
      );
      return project;
    }

    it("another checkout's stack at DATABASE_URL's port (same directory name): named, not trusted; each checkout its own volumes", async () => {
      const other = await namedDb();
      const mine = await namedDb();
      projects.push(other, mine);
      expect(composeProject(mine)).not.toBe(composeProject(other));
      const started = await up(other);
      expect(started.code, started.stderr).toBe(0);
      await query(
        other.databaseUrl,
        "INSERT INTO users (email, name) VALUES ('other@example.com', 'Other')",
      );

      // mine on other's ports: the fast path must not take other's server for its own.
      const clash = await movePorts(mine, other.pgPort, other.redisPort);
      const refused = await up(clash);
      expect(refused.code).toBe(1);
      expect(oneLineError(refused)).toMatch(
        new RegExp(
          `^✖ port ${other.pgPort} of DATABASE_URL is held by the kata-db checkout ${other.root} \\(docker-proxy, pid \\d+\\): stop it \\(\`db down\` in that checkout\\), or choose a free port in DATABASE_URL \\(\\.env\\)$`,
        ),
      );
      expect(await engineState(mine)).toEqual({ containers: [], volumes: [] });
      expect(await engineState(other)).toMatchObject({
        containers: ["postgres running", "redis running"],
      });

      // On its own ports, mine gets its own stack: none of other's data.
      const own = await movePorts(mine);
      const result = await up(own);
      expect(result.code, result.stderr).toBe(0);
      expect(
        await query(own.databaseUrl, "SELECT 1 FROM users WHERE email = 'other@example.com'"),
      ).toHaveLength(0);
      expect(
        await query(other.databaseUrl, "SELECT 1 FROM users WHERE email = 'other@example.com'"),
      ).toHaveLength(1);
      const [a, b] = [await engineState(own), await engineState(other)];
      expect(a.volumes).toHaveLength(2);
      expect(a.volumes.filter((v) => b.volumes.includes(v))).toEqual([]);
    });

    it.each(["DATABASE_URL", "REDIS_URL"] as const)(
      "a port of %s taken by another program: who holds it, nothing created, data kept",
      async (which) => {
        const project = await upWithData();
        expect((await db(project.root, ["down"])).code).toBe(0);
        const before = await engineState(project);

        const port = which === "DATABASE_URL" ? project.pgPort : project.redisPort;
        const server = await squat(port);
        let refused: Awaited<ReturnType<typeof up>>;
        try {
          refused = await up(project);
        } finally {
          await close(server);
        }
        expect(refused.code).toBe(1);
        expect(oneLineError(refused)).toMatch(
          new RegExp(
            `^✖ port ${port} of ${which} is held by [\\w .-]+ \\(pid ${process.pid}\\): stop it, or choose a free port in ${which} \\(\\.env\\)$`,
          ),
        );
        expect(await engineState(project)).toEqual(before);

        const again = await up(project);
        expect(again.code, again.stderr).toBe(0);
        expect(
          await query(project.databaseUrl, "SELECT 1 FROM users WHERE email = 'kept@example.com'"),
        ).toHaveLength(1);
      },
    );

    it("the password changed in .env after the volume exists: what to do, stack stopped, data kept", async () => {
      const project = await upWithData();
      const env = join(project.root, ".env");
      const withPassword = (password: string) =>
        writeFileSync(
          env,
          `DATABASE_URL=${project.databaseUrl.replace(PASSWORD, password)}\nREDIS_URL=${project.redisUrl}\n`,
        );
      const expected = new RegExp(
        `^✖ PostgreSQL of this checkout's docker stack refused DATABASE_URL's user or password: its volume ${composeProject(project)}_postgres-data was initialised with other credentials \\(the image applies them only on first start\\) — put the old ones back in DATABASE_URL \\(\\.env\\), or \`db down --volumes\` to start afresh \\(deletes the data\\)$`,
      );

      // While the stack runs: refused, and the running stack is left running.
      withPassword("changed-Passw0rd");
      const running = await up(project);
      expect(running.code).toBe(1);
      expect(oneLineError(running)).toMatch(expected);
      expect((await engineState(project)).containers).toEqual([
        "postgres running",
        "redis running",
      ]);

      // After `db down`: this up starts the containers, is refused, and removes them again.
      withPassword(PASSWORD);
      expect((await db(project.root, ["down"])).code).toBe(0);
      const before = await engineState(project);
      withPassword("changed-Passw0rd");
      const stopped = await up(project);
      expect(stopped.code).toBe(1);
      expect(oneLineError(stopped)).toMatch(expected);
      expect(stopped.stderr).not.toContain("changed-Passw0rd");
      expect(await engineState(project)).toEqual(before);

      withPassword(PASSWORD);
      const again = await up(project);
      expect(again.code, again.stderr).toBe(0);
      expect(
        await query(project.databaseUrl, "SELECT 1 FROM users WHERE email = 'kept@example.com'"),
      ).toHaveLength(1);
    });
  },
);
