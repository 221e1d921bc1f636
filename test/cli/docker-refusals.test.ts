// The failures that once went wrong on the docker backend, on a real engine: another server at
// DATABASE_URL's port, a port taken by another program, a password changed after the volume
// exists, two checkouts with the same directory name. Each failure: one line saying what holds
// the port (or what changed) and what to do, exit 1, no container of this checkout left created
// or started by the failed `db up`, and the data that was there kept. Each test has projects and
// ports of its own, so they run at once (compose mostly waits on the engine). Skipped, saying
// why, when no engine answers.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, type ExpectStatic, expect, it } from "vitest";
import { composeProject } from "../../scripts/backends/docker.ts";
import { sh } from "../../scripts/basics/system.ts";
import {
  close,
  engine,
  engineState,
  movePorts,
  namedDb,
  purge,
  query,
  skipped,
  squat,
  up,
} from "./docker-helpers.ts";
import { db, makeProject, oneLineError, PASSWORD, type Project } from "./helpers.ts";

describe.skipIf(!engine.ok)(
  `db up on the docker backend refuses, leaving nothing half-started${skipped}`,
  { concurrent: true },
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
    /** `db up` again once the cause is gone: it starts, and the row is still there. */
    async function backWithData(expect: ExpectStatic, project: Project): Promise<void> {
      const again = await up(project);
      expect(again.code, again.stderr).toBe(0);
      expect(
        await query(project.databaseUrl, "SELECT 1 FROM users WHERE email = 'kept@example.com'"),
      ).toHaveLength(1);
    }

    it("another checkout's stack at DATABASE_URL's port (same directory name): named, not trusted; each checkout its own volumes", async ({
      expect,
    }) => {
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

    it.for(["DATABASE_URL", "REDIS_URL"] as const)(
      "a port of %s taken by another program: who holds it, nothing created, data kept",
      async (which, { expect }) => {
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

        await backWithData(expect, project);
      },
    );

    it("a server that cannot start: its own last words, nothing left running, data kept", async ({
      expect,
    }) => {
      const project = await upWithData();
      expect((await db(project.root, ["down"])).code).toBe(0);
      const before = await engineState(project);
      // A setting PostgreSQL does not know, in the volume's postgresql.conf: the server exits.
      const conf = "/var/lib/postgresql/18/docker/postgresql.conf";
      const inVolume = (script: string) =>
        sh`docker run --rm --entrypoint sh -v ${`${composeProject(project)}_postgres-data`}:/var/lib/postgresql postgres:18 -c ${script}`;
      await inVolume(`cp ${conf} ${conf}.kept && echo 'kata_no_such_setting = on' >> ${conf}`);

      const refused = await up(project);
      expect(refused.code).toBe(1);
      expect(oneLineError(refused)).toMatch(
        /^✖ docker compose up: the postgres container exited while starting: [\d-]+ [\d:.]+ \w+ \[1\] FATAL: {2}configuration file "\/var\/lib\/postgresql\/18\/docker\/postgresql\.conf" contains errors \(`db logs postgres` shows more\) [\d.]+ m?s$/,
      );
      expect(await engineState(project)).toEqual(before);

      await inVolume(`mv ${conf}.kept ${conf}`);
      await backWithData(expect, project);
    });

    it("the password changed in .env after the volume exists: what to do, stack stopped, data kept", async ({
      expect,
    }) => {
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
      await backWithData(expect, project);
    });
  },
);
