// The whole life of a local stack, run through the CLI on one backend: up → up again (no-op) →
// status --json → migrate (no-op) → seed → reset → down → up (same data back) → down --volumes.
// Redis is optional on these backends: the variant is decided by whether the CLI's PATH really
// holds redis-server, and the describe's name says which one ran. With it, Redis is started and
// stopped with PostgreSQL; without it, `db up` succeeds, says Redis is unavailable and how to get
// it, and `status` reports that reason and still exits 0.

import { existsSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processExists, which } from "../../scripts/basics/system.ts";
import {
  db,
  MIGRATION_TAGS,
  makeProject,
  PASSWORD,
  type Project,
  type Run,
  type RunOptions,
  removeProject,
} from "./helpers.ts";

export function lifecycle(
  backend: "embedded" | "native",
  options: () => RunOptions & { args: string[] },
) {
  const cliPath = options().path ?? process.env.PATH ?? "";
  const redisServer = which("redis-server", cliPath);
  const variant = redisServer
    ? `with redis-server (${redisServer})`
    : "without redis-server on PATH (Redis unavailable)";
  // Said in the run's output too (the default reporter shows no describe names for passing files).
  console.info(`lifecycle on the ${backend} backend: ${variant}`);
  describe(`db on the ${backend} backend, ${variant}`, () => {
    let project: Project;
    const run = (args: string[]) => db(project.root, args, options());
    const query = async <T>(text: string): Promise<T[]> => {
      const sql = postgres(project.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        return (await sql.unsafe(text)) as unknown as T[];
      } finally {
        await sql.end();
      }
    };
    const noSecret = (result: Run) => {
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    };

    beforeAll(async () => {
      project = await makeProject();
    });

    afterAll(async () => {
      if (!project) return;
      const data = (name: string) => existsSync(join(project.root, ".data", name));
      // What this checkout kept about the database (db up, db status) goes with its data.
      expect([data("applied-sql"), data("drift-cache")]).toEqual([true, true]);
      const down = await run(["down", "--volumes"]);
      expect(down.code, down.stderr).toBe(0);
      // Only what was there is named: without redis-server there never was a .data/redis.
      expect(down.stderr).toMatch(
        redisServer
          ? /✔ Deleted \.data\/postgres and \.data\/redis /
          : /✔ Deleted \.data\/postgres \d/,
      );
      expect(["postgres", "redis", "applied-sql", "drift-cache"].filter(data)).toEqual([]);
      removeProject(project);
    });

    it("up: starts PostgreSQL and Redis and applies every migration", async () => {
      const result = await run(["up", ...options().args]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`backend: ${backend} `));
      expect(result.stderr).toMatch(/✔ PostgreSQL 18\.\d+ started/);
      if (redisServer) {
        expect(result.stderr).toMatch(/✔ Redis started/);
      } else {
        expect(result.stderr).toContain(
          "⚠ Redis unavailable: redis-server is not on PATH: install Redis 7 (Debian/Ubuntu: apt-get install redis-server",
        );
        expect(result.stdout).toContain(`REDIS_URL=${project.redisUrl}  (unavailable)`);
      }
      expect(result.stderr).toContain(`Applied ${MIGRATION_TAGS.length} migrations`);
      expect(result.stdout).toContain(
        `DATABASE_URL=postgres://kata:***@127.0.0.1:${project.pgPort}/kata`,
      );
      expect(result.stdout).toContain("next: db status");
      noSecret(result);
    });

    it("up again: a no-op that says so", async () => {
      const result = await run(["up"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`backend: ${backend} (`);
      expect(result.stderr).toMatch(/PostgreSQL 18\.\d+ already running/);
      expect(result.stderr).toContain(
        redisServer ? "Redis already running" : "⚠ Redis unavailable: redis-server is not on PATH",
      );
      expect(result.stderr).toContain("Migrations of kata up to date");
    });

    it("status --json: the contract's shape, healthy, nothing pending, exit 0", async () => {
      const result = await run(["status", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      const status = JSON.parse(result.stdout);
      expect(status).toEqual({
        backend,
        postgres: {
          url: `postgres://kata:***@127.0.0.1:${project.pgPort}/kata`,
          healthy: true,
          version: expect.stringMatching(/^18\./),
        },
        redis: redisServer
          ? { url: project.redisUrl, healthy: true }
          : {
              url: project.redisUrl,
              healthy: false,
              reason: expect.stringContaining("redis-server is not on PATH: install Redis 7"),
            },
        migrations: { applied: MIGRATION_TAGS, pending: [], modified: [], unknown: [] },
      });
      noSecret(result);
    });

    it("status: a table of the migrations", async () => {
      const result = await run(["status"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`migrations  ${MIGRATION_TAGS.length} applied, 0 pending`);
      for (const tag of MIGRATION_TAGS)
        expect(result.stdout).toMatch(new RegExp(`✔ applied\\s+${tag}`));
    });

    it("migrate: nothing to do", async () => {
      const result = await run(["migrate"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain("Migrations of kata up to date");
    });

    it("seed: deterministic data through the schema, idempotent", async () => {
      const first = await run(["seed"]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/Seeded kata: \d+ rows/);
      const counts = () =>
        query<{ users: number; tasks: number; keys: number }>(
          "SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM tasks) AS tasks, (SELECT count(*)::int FROM api_keys) AS keys",
        );
      const before = await counts();
      expect(before).toEqual([{ users: 2, tasks: 3, keys: 1 }]);
      const again = await run(["seed"]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain("Seed data of kata already present");
      expect(await counts()).toEqual(before);
    });

    it("reset: drops what was there, re-creates, migrates and seeds", async () => {
      await query("INSERT INTO users (email, name) VALUES ('gone@example.com', 'Gone')");
      const result = await run(["reset", "--yes"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`Applied ${MIGRATION_TAGS.length} migrations`);
      const emails = await query<{ email: string }>("SELECT email FROM users ORDER BY email");
      expect(emails.map((row) => row.email)).toEqual(["ada@example.com", "grace@example.com"]);
    });

    // The clients come from PATH, which CI need not have; where they are, they must connect.
    it.skipIf(!which("psql", cliPath))(
      "psql: connects with the URL, the password kept off its command line",
      async () => {
        const result = await run(["psql", "-tAc", "SELECT count(*) FROM users"]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.trim()).toBe("2");
      },
    );

    it.skipIf(!which("redis-cli", cliPath) || !redisServer)(
      "redis-cli: arguments go to redis-cli",
      async () => {
        const result = await run(["redis-cli", "ping"]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.trim()).toBe("PONG");
      },
    );

    it("logs: the server's log", async () => {
      const result = await run(["logs", "postgres"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("database system is ready to accept connections");
    });

    it("logs -f: keeps following the log until Ctrl-C", async () => {
      let following = false;
      const result = await db(project.root, ["logs", "-f", "postgres"], {
        ...options(),
        // Ctrl-C as a terminal sends it, to the whole process group, once it has had time to
        // print the log and, with -f, not to exit by itself.
        onSpawn: (pid) =>
          setTimeout(() => {
            following = processExists(pid);
            process.kill(-pid, "SIGINT");
          }, 1500),
      });
      expect(following).toBe(true);
      expect(result.stdout).toContain("database system is ready to accept connections");
    });

    it("down, then up: the servers stop, and the same data comes back", async () => {
      await query("INSERT INTO users (email, name) VALUES ('kept@example.com', 'Kept')");
      const down = await run(["down"]);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stderr).toContain("PostgreSQL stopped");
      expect(down.stderr).toContain(redisServer ? "Redis stopped" : "Redis was not running");

      const stopped = await run(["status", "--json"]);
      expect(stopped.code).toBe(1);
      const status = JSON.parse(stopped.stdout);
      expect(status.postgres.healthy).toBe(false);
      expect(status.redis.healthy).toBe(false);

      const up = await run(["up"]);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/PostgreSQL 18\.\d+ started/);
      const kept = await query("SELECT 1 FROM users WHERE email = 'kept@example.com'");
      expect(kept).toHaveLength(1);
    });
  });
}
