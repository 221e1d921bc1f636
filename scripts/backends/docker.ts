// `docker`: docker-compose.yml of this package, its variables derived from DATABASE_URL and
// REDIS_URL (one source of truth), one compose project per checkout. The PostgreSQL it starts runs
// with this checkout's cluster_name (scripts/checkout/identity.ts), so the fast path of `db up` can
// tell its own stack from whatever else answers at DATABASE_URL. A failed `db up` removes what it
// created (containers, fresh volumes) and stops what it started; data that was there stays.

import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stripVTControlCharacters } from "node:util";
import type { Config } from "../basics/env.ts";
import { PACKAGE_ROOT } from "../basics/env.ts";
import { type PostgresHealth, probePostgres } from "../basics/pg.ts";
import { pingRedis, type RedisHealth } from "../basics/redis.ts";
import { interactive, listenAddress, portInUse, sh, which } from "../basics/system.ts";
import {
  checkoutId,
  clusterName,
  describeOwner,
  ownedBy,
  parseClusterName,
  recordCheckout,
} from "../checkout/identity.ts";
import { describePortHolder } from "../checkout/port-holder.ts";
import { colourful } from "../cli/colour.ts";
import { CliError, errorLine, task } from "../cli/task.ts";
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
    KATA_CLUSTER_NAME: clusterName(config.root),
  };
}

/**
 * One compose project per checkout: the directory's name for people reading `docker ps`, and the
 * checkout's id (from its real path) so two checkouts named alike (…/a/db, …/b/db) never share
 * containers or volumes.
 */
export function composeProject(config: Pick<Config, "root">): string {
  const owner = parseClusterName(clusterName(config.root));
  return `kata-db-${owner?.label ?? "root"}-${checkoutId(config.root)}`;
}

/** The label compose puts on the project's containers, volumes and networks, as a filter. */
export const projectLabel = (config: Pick<Config, "root">) =>
  `label=com.docker.compose.project=${composeProject(config)}`;

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

/** The project's containers (any state) and named volumes, as the engine sees them. */
interface ProjectState {
  /** service → state ("running", "exited", "created"…) and the host ports it publishes. */
  services: Map<string, { state: string; ports: number[] }>;
  volumes: string[];
}

async function projectState(config: Config): Promise<ProjectState> {
  const [ps, volumes] = await Promise.all([
    compose(config, ["ps", "--all", "--format", "json"]),
    sh`docker volume ls --quiet --filter ${projectLabel(config)}`,
  ]);
  // compose 2.21+ prints one JSON object per line; older releases one array.
  const text = ps.stdout.trim();
  const rows: { Service: string; State: string; Publishers?: { PublishedPort: number }[] }[] =
    text.startsWith("[")
      ? JSON.parse(text)
      : text
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line));
  const services = new Map(
    rows.map((row) => [
      row.Service,
      {
        state: row.State,
        ports: (row.Publishers ?? []).map((p) => p.PublishedPort).filter((p) => p > 0),
      },
    ]),
  );
  return { services, volumes: volumes.stdout.split("\n").filter(Boolean) };
}

const publishedByUs = (state: ProjectState, port: number) =>
  [...state.services.values()].some((s) => s.state === "running" && s.ports.includes(port));

const isAuthFailure = (health: PostgresHealth) =>
  health.code === "28P01" || health.code === "28000";

/** The one line for a port of ours that something else holds: who, and what to do. */
function portHeld(config: Config, which: "DATABASE_URL" | "REDIS_URL", pg?: PostgresHealth) {
  const port = which === "DATABASE_URL" ? config.postgres.port : (config.redis?.port ?? 0);
  const program = describePortHolder(port);
  let who = program ? `${program.replace(", ", " (")})` : "another program";
  let fix = "stop it";
  if (pg?.healthy) {
    who = `${describeOwner(pg.clusterName, config.root)}${program ? ` (${program})` : ""}`;
    if (parseClusterName(pg.clusterName)) fix = "stop it (`db down` in that checkout)";
  } else if (pg && isAuthFailure(pg)) {
    who = `a PostgreSQL that refuses DATABASE_URL's user or password, not this checkout's docker stack${program ? ` (${program})` : ""}`;
  }
  return new CliError(
    `port ${port} of ${which} is held by ${who}: ${fix}, or choose a free port in ${which} (.env)`,
  );
}

/** Refuse before creating anything when a port the stack publishes is taken by someone else. */
async function refuseTakenPorts(config: Config, state: ProjectState, pg: PostgresHealth) {
  const { postgres, redis } = config;
  if (
    !publishedByUs(state, postgres.port) &&
    (await portInUse(postgres.port, listenAddress(postgres.host)))
  ) {
    throw portHeld(config, "DATABASE_URL", pg);
  }
  if (
    redis &&
    !publishedByUs(state, redis.port) &&
    (await portInUse(redis.port, listenAddress(redis.host)))
  ) {
    throw portHeld(config, "REDIS_URL");
  }
}

/**
 * Put the project back as it was before this `db up`: containers it created are removed,
 * containers it started are stopped, volumes it created are removed (they hold nothing yet).
 * Volumes that existed before are never touched.
 */
async function undo(config: Config, before: ProjectState): Promise<void> {
  const after = await projectState(config);
  const created = [...after.services.keys()].filter((s) => !before.services.has(s));
  const started = [...after.services.keys()].filter(
    (s) => before.services.has(s) && before.services.get(s)?.state !== "running",
  );
  if (before.services.size === 0) {
    // Nothing of the project existed: `down` also removes the network compose made (not volumes).
    await compose(config, ["down", "--timeout", "5"]);
  } else {
    if (created.length) await compose(config, ["rm", "--stop", "--force", ...created]);
    if (started.length) await compose(config, ["stop", "--timeout", "5", ...started]);
  }
  const fresh = after.volumes.filter((v) => !before.volumes.includes(v));
  if (fresh.length) await sh`docker volume rm ${fresh}`;
}

/**
 * How long a stack may take to answer after `compose up`: as long as its healthchecks would wait
 * (start_period 20 s, then 15 retries 2 s apart: docker-compose.yml).
 */
const ANSWER_WITHIN_MS = 50_000;

/** An answer from the server itself (a SQLSTATE), but "starting up", which is worth waiting for. */
const serverAnswered = (pg: PostgresHealth) =>
  pg.healthy || (/^[0-9A-Z]{5}$/.test(pg.code ?? "") && pg.code !== "57P03");

/**
 * A service of the project whose container neither runs nor is being created (it exited, died or
 * is restarting), with that state. One `docker ps`, where projectState() runs the compose plugin
 * and lists volumes as well: the wait below asks every second, and a stack's first start (the
 * image's initdb) takes seconds, so those calls were most of the docker CLI's work in the tests.
 */
async function stoppedService(config: Config): Promise<[string, string] | undefined> {
  const format = '{{.Label "com.docker.compose.service"}} {{.State}}';
  const { stdout } = await sh`docker ps --all --filter ${projectLabel(config)} --format ${format}`;
  for (const line of stdout.split("\n")) {
    const [service, state] = line.trim().split(" ");
    if (service && state && state !== "running" && state !== "created") return [service, state];
  }
  return undefined;
}

/**
 * Wait until the stack's PostgreSQL and Redis answer, asking them every 100 ms, rather than
 * through `compose up --wait`: Docker runs a healthcheck only every `interval` (2 s), so a stack
 * that answered 1.7 s after a restart was reported healthy at 3.3 s. Any answer of the server
 * ends the wait (a refused password is the caller's to explain); a container that stops
 * meanwhile ends it at once, with its last log line. During its first start the image runs
 * initdb behind a server on the Unix socket only, so an answer over TCP is the real server's.
 */
async function waitUntilAnswering(config: Config): Promise<PostgresHealth> {
  const started = performance.now();
  let checked = started;
  for (;;) {
    const [pg, redis] = await Promise.all([
      // Its own limits (this loop's): not the command's connect deadline, which is for connecting.
      probePostgres(config.postgres.url, { maxSeconds: 1, deadline: "per-attempt" }),
      redisHealth(config),
    ]);
    if (serverAnswered(pg) && (redis.healthy || !config.redis)) return pg;
    const now = performance.now();
    if (now - checked >= 1000) {
      checked = now;
      const stopped = await stoppedService(config);
      if (stopped) {
        const [service, state] = stopped;
        const logs = await compose(config, [
          "logs",
          "--no-color",
          "--no-log-prefix",
          "--tail",
          "5",
          service,
        ]);
        // Without the terminal escapes compose writes even with --no-color (a clear-line).
        const last = stripVTControlCharacters(`${logs.stdout}\n${logs.stderr}`)
          .split("\n")
          .filter((line) => line.trim())
          .at(-1);
        throw new CliError(
          `the ${service} container ${state} while starting${last ? `: ${last.trim()}` : ""} (\`db logs ${service}\` shows more)`,
        );
      }
    }
    if (now - started > ANSWER_WITHIN_MS) {
      const why = serverAnswered(pg) ? `Redis: ${redis.reason}` : `PostgreSQL: ${pg.reason}`;
      throw new CliError(
        `the docker stack did not answer within ${ANSWER_WITHIN_MS / 1000} s (${why}): see \`db logs\``,
      );
    }
    await sleep(100);
  }
}

/** What a failed `compose up` or a refused login means, in one line. */
function explainUpFailure(config: Config, error: unknown): unknown {
  const line = errorLine(error);
  if (/address already in use|port is already allocated/.test(line)) {
    const port = Number(/:(\d+)(?::|\s|$)/.exec(line.split("listen tcp")[1] ?? "")?.[1]);
    return portHeld(config, port === config.redis?.port ? "REDIS_URL" : "DATABASE_URL");
  }
  return error;
}

/** The refusal when the stack's own PostgreSQL does not take DATABASE_URL's password. */
function passwordChanged(config: Config): CliError {
  const volume = `${composeProject(config)}_postgres-data`;
  return new CliError(
    `PostgreSQL of this checkout's docker stack refused DATABASE_URL's user or password: its volume ${volume} was initialised with other credentials (the image applies them only on first start) — put the old ones back in DATABASE_URL (.env), or \`db down --volumes\` to start afresh (deletes the data)`,
  );
}

export const docker: Backend = {
  name: "docker",

  async up(config, why) {
    const { host, port } = config.postgres;
    // Already up: answer without spawning docker at all (`db up` must be fast when nothing to do),
    // but only when the server at the URL says it is this checkout's (cluster_name).
    const [pg, redis] = await Promise.all([
      probePostgres(config.postgres.url),
      redisHealth(config),
    ]);
    const ours = pg.healthy && ownedBy(pg.clusterName, config.root);
    if (ours && redis.healthy) {
      await task("Docker stack", async (step) =>
        step.done(`PostgreSQL ${pg.version} and Redis already running (docker) at ${host}:${port}`),
      );
      return { redis };
    }
    if (pg.healthy && !ours) throw portHeld(config, "DATABASE_URL", pg);
    await requireEngine(why);
    recordCheckout(config.root);
    const before = await projectState(config);
    if (isAuthFailure(pg) && before.services.get("postgres")?.state === "running") {
      throw passwordChanged(config);
    }
    await refuseTakenPorts(config, before, pg);
    try {
      const after = await task("docker compose up", async (step) => {
        try {
          await compose(config, ["up", "--detach"]);
        } catch (error) {
          throw explainUpFailure(config, error);
        }
        const answer = await waitUntilAnswering(config);
        step.done("docker compose up, PostgreSQL and Redis answering");
        return answer;
      });
      if (isAuthFailure(after)) throw passwordChanged(config);
      if (!after.healthy)
        throw new CliError(`PostgreSQL at ${host}:${port} is not usable: ${after.reason}`);
      if (!ownedBy(after.clusterName, config.root)) throw portHeld(config, "DATABASE_URL", after);
    } catch (error) {
      await undo(config, before);
      throw error;
    }
    return { redis: await redisHealth(config) };
  },

  async down(config, { volumes }) {
    await requireEngine("the last `db up` used docker");
    await task(`docker compose down${volumes ? " --volumes" : ""}`, async () => {
      await compose(config, ["down", ...(volumes ? ["--volumes"] : [])]);
    });
  },

  async running(config) {
    const pg = await probePostgres(config.postgres.url);
    return pg.healthy && ownedBy(pg.clusterName, config.root);
  },

  async logs(config, { service, follow }) {
    await requireEngine("the last `db up` used docker");
    return interactive(
      "docker",
      [
        ...composeArgs(config),
        "logs",
        // Compose colours each service's name on a terminal; NO_COLOR (or none) turns it off.
        ...(colourful(process.stdout) ? [] : ["--no-color"]),
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
