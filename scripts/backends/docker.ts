// `docker`: docker-compose.yml of this package, its variables derived from DATABASE_URL and
// REDIS_URL (one source of truth), one compose project per project directory.

import { basename, join } from "node:path";
import type { Config } from "../lib/env.ts";
import { PACKAGE_ROOT } from "../lib/env.ts";
import { probePostgres } from "../lib/pg.ts";
import { pingRedis, type RedisHealth } from "../lib/redis.ts";
import { interactive, sh, which } from "../lib/system.ts";
import { CliError, task } from "../lib/task.ts";
import type { Backend } from "./backend.ts";

export const COMPOSE_FILE = join(PACKAGE_ROOT, "docker-compose.yml");

/** What docker-compose.yml reads, from the URLs; nothing is configured twice. */
export function composeEnv(config: Config): Record<string, string> {
  const { postgres, redis } = config;
  return {
    POSTGRES_USER: postgres.user,
    POSTGRES_PASSWORD: postgres.password,
    POSTGRES_DB: postgres.database,
    POSTGRES_PORT: String(postgres.port),
    ...(redis ? { REDIS_PORT: String(redis.port) } : {}),
  };
}

/** One compose project per project directory, so two checkouts never share a volume. */
export const composeProject = (config: Config) =>
  `kata-db-${basename(config.root)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")}`;

const composeArgs = (config: Config) => [
  "compose",
  "--project-name",
  composeProject(config),
  "--file",
  COMPOSE_FILE,
  "--project-directory",
  config.root,
];

const compose = (config: Config, args: string[]) =>
  sh({ env: { ...process.env, ...composeEnv(config) } })`docker ${composeArgs(config)} ${args}`;

/** Whether a Docker engine answers, or why not. */
export async function dockerEngine(): Promise<{ ok: true } | { ok: false; why: string }> {
  if (!which("docker")) return { ok: false, why: "the docker command is not installed" };
  const info = await sh({ nothrow: true, timeout: "10s" })`docker info --format {{.ServerVersion}}`;
  return info.ok ? { ok: true } : { ok: false, why: "no Docker engine answers `docker info`" };
}

async function requireEngine(why: string): Promise<void> {
  const engine = await dockerEngine();
  if (!engine.ok) {
    throw new CliError(
      `Docker asked for (${why}) but ${engine.why}: start Docker, or use --backend native or --backend embedded`,
    );
  }
}

const redisHealth = async (config: Config): Promise<RedisHealth> =>
  config.redis ? pingRedis(config.redis) : { healthy: false, reason: "REDIS_URL is not set" };

export const docker: Backend = {
  name: "docker",

  async up(config, why) {
    const { host, port } = config.postgres;
    // Already up: answer without spawning docker at all (`db up` must be fast when nothing to do).
    const [pg, redis] = await Promise.all([
      probePostgres(config.postgres.url),
      redisHealth(config),
    ]);
    if (pg.healthy && redis.healthy) {
      await task("Docker stack", async (step) =>
        step.done(`PostgreSQL ${pg.version} and Redis already running (docker) at ${host}:${port}`),
      );
      return { redis };
    }
    await requireEngine(why);
    await task("docker compose up --wait", async () => {
      await compose(config, ["up", "--wait", "--detach"]);
    });
    const after = await probePostgres(config.postgres.url);
    if (!after.healthy)
      throw new CliError(`PostgreSQL at ${host}:${port} is not usable: ${after.reason}`);
    return { redis: await redisHealth(config) };
  },

  async down(config, { volumes }) {
    await requireEngine("the last `db up` used docker");
    await task(`docker compose down${volumes ? " --volumes" : ""}`, async () => {
      await compose(config, ["down", ...(volumes ? ["--volumes"] : [])]);
    });
  },

  async running(config) {
    return (await probePostgres(config.postgres.url)).healthy;
  },

  async logs(config, { service, follow }) {
    await requireEngine("the last `db up` used docker");
    return interactive(
      "docker",
      [
        ...composeArgs(config),
        "logs",
        ...(follow ? ["--follow"] : []),
        ...(service ? [service] : []),
      ],
      composeEnv(config),
    );
  },

  async client(config, service, args) {
    await requireEngine("the last `db up` used docker");
    const { user, database } = config.postgres;
    const command = service === "postgres" ? ["psql", "-U", user, "-d", database] : ["redis-cli"];
    // -T without a terminal: compose would otherwise ask for a TTY that is not there.
    const tty = process.stdin.isTTY ? [] : ["-T"];
    return interactive(
      "docker",
      [...composeArgs(config), "exec", ...tty, service, ...command, ...args],
      composeEnv(config),
    );
  },
};
