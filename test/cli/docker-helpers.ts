// What the docker backend's test files share (docker.test.ts, docker-refusals.test.ts): the
// engine check, the CLI on the docker backend, and the engine's view of a project.

import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { expect, vi } from "vitest";
import { dockerEngine, projectLabel } from "../../scripts/backends/docker.ts";
import { sh } from "../../scripts/basics/system.ts";
import { testPort } from "../helpers/ports.ts";
import { db, makeProject, PASSWORD, type Project, removeProject } from "./helpers.ts";

export const engine = await dockerEngine();
/** Said in each describe's name when no engine answers, so the skip says why. */
export const skipped = engine.ok ? "" : ` — skipped: ${engine.why}`;
if (!engine.ok) console.info(`docker backend tests skipped: ${engine.why}`);

// Real containers: a `db up` from nothing takes 3–10 s on a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

export const up = (project: Project) => db(project.root, ["up", "--backend", "docker"]);

/** A query on the project's database, through its URL (or another one). */
export async function query<T>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

/** The project's containers ("name state") and volumes, as the engine lists them. */
export async function engineState(project: Project) {
  const label = projectLabel(project);
  const [containers, volumes] = await Promise.all([
    sh`docker ps --all --filter ${label} --format ${'{{.Label "com.docker.compose.service"}} {{.State}}'}`,
    sh`docker volume ls --quiet --filter ${label}`,
  ]);
  const lines = (text: string) => text.split("\n").filter(Boolean).sort();
  return { containers: lines(containers.stdout), volumes: lines(volumes.stdout) };
}

/** Everything of the project gone from the engine, whatever state the test left it in. */
export async function purge(project: Project) {
  const down = await db(project.root, ["down", "--volumes"]);
  expect(down.code, down.stderr).toBe(0);
  expect(await engineState(project)).toEqual({ containers: [], volumes: [] });
  removeProject(project);
}

/**
 * A project directory named `db` inside a fresh temp directory: two of them are checkouts with
 * the same directory name, which once shared one compose project and its volumes.
 */
export async function namedDb(): Promise<Project> {
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
export async function movePorts(
  project: Project,
  pgPort?: number,
  redisPort?: number,
): Promise<Project> {
  const moved = { ...project };
  moved.pgPort = pgPort ?? (await testPort());
  moved.redisPort = redisPort ?? (await testPort());
  moved.databaseUrl = `postgres://kata:${PASSWORD}@127.0.0.1:${moved.pgPort}/kata`;
  moved.redisUrl = `redis://127.0.0.1:${moved.redisPort}`;
  writeFileSync(
    join(project.root, ".env"),
    `DATABASE_URL=${moved.databaseUrl}\nREDIS_URL=${moved.redisUrl}\n`,
  );
  return moved;
}

/** A loopback listener that accepts connections and closes them (another program). */
export function squat(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
export const close = (server: Server) => new Promise((resolve) => server.close(resolve));
