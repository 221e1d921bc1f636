// Configuration, from one source of truth: DATABASE_URL and REDIS_URL (and DB_BACKEND) in the
// project's .env, with real environment variables winning (direnv, CI, a one-off override).
// Everything else — ports, credentials, the compose variables — is derived from those URLs.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { addSecret, redact } from "../cli/redact.ts";
import { CliError } from "../cli/task.ts";

/** This package: drizzle/, docker-compose.yml, drizzle.config.ts, node_modules/. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The project directory: where .env, .env.example and .data/ live. This package, unless
 * KATA_DB_ROOT names another directory (the CLI's own tests use throwaway ones this way).
 * Migrations always come from the package.
 */
export const projectRoot = () => resolve(process.env.KATA_DB_ROOT || PACKAGE_ROOT);

export const BACKENDS = ["docker", "native", "embedded"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface PostgresTarget {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface RedisTarget {
  url: string;
  host: string;
  port: number;
  password: string;
}

export interface Config {
  root: string;
  /** Server data of the native and embedded backends, and which backend ran last. */
  dataDir: string;
  postgres: PostgresTarget;
  /** Undefined when REDIS_URL is not set: Redis is then reported as not configured. */
  redis: RedisTarget | undefined;
  /** DB_BACKEND, when set. */
  backend: BackendName | undefined;
}

/** Names set from .env rather than the real environment, to say where a bad value came from. */
const fromFile = new Set<string>();
const origin = (name: string) =>
  `${name} (${fromFile.has(name) ? "in .env" : "from the environment"})`;

/** Load .env into process.env for the names the environment does not set (an empty value is unset). */
export function loadEnvFile(root = projectRoot()): void {
  const file = join(root, ".env");
  if (!existsSync(file)) return;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, "utf8")))) {
    if (process.env[name]) continue;
    process.env[name] = value;
    fromFile.add(name);
  }
}

export const LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"];
/** On this machine: the only targets `db up`, `db reset` and `db down --volumes` touch. */
export const isLocalHost = (host: string) => LOCAL_HOSTS.includes(host.toLowerCase());

const POSTGRES_EXAMPLE = "postgres://kata:kata@127.0.0.1:54329/kata";
const REDIS_EXAMPLE = "redis://127.0.0.1:63799";

const badUrl = (name: string, value: string, why: string, example: string) =>
  new CliError(`${origin(name)} ${why}: ${redact(value)} — expected e.g. ${example}`);

function parseUrl(name: string, value: string, protocols: string[], example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badUrl(name, value, "is not a valid URL", example);
  }
  if (!protocols.includes(url.protocol)) {
    throw badUrl(name, value, `must start with ${protocols.join("// or ")}//`, example);
  }
  if (!url.hostname) throw badUrl(name, value, "has no host", example);
  return url;
}

function postgresTarget(value: string): PostgresTarget {
  const url = parseUrl("DATABASE_URL", value, ["postgres:", "postgresql:"], POSTGRES_EXAMPLE);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!url.username) throw badUrl("DATABASE_URL", value, "has no user", POSTGRES_EXAMPLE);
  if (!database || database.includes("/")) {
    throw badUrl("DATABASE_URL", value, "has no database name", POSTGRES_EXAMPLE);
  }
  const password = decodeURIComponent(url.password);
  addSecret(password);
  return {
    url: value,
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password,
    database,
  };
}

function redisTarget(value: string): RedisTarget {
  const url = parseUrl("REDIS_URL", value, ["redis:", "rediss:"], REDIS_EXAMPLE);
  const password = decodeURIComponent(url.password);
  addSecret(password);
  return { url: value, host: url.hostname, port: url.port ? Number(url.port) : 6379, password };
}

/** Read and validate the configuration; a bad value is a one-line error saying what to fix. */
export function loadConfig(root = projectRoot()): Config {
  loadEnvFile(root);
  const { DATABASE_URL, REDIS_URL, DB_BACKEND } = process.env;
  if (!DATABASE_URL) {
    throw new CliError(
      `DATABASE_URL is not set: run \`db up\` (it creates .env from .env.example) or set it, e.g. ${POSTGRES_EXAMPLE}`,
    );
  }
  if (DB_BACKEND && !(BACKENDS as readonly string[]).includes(DB_BACKEND)) {
    throw new CliError(
      `${origin("DB_BACKEND")} is '${DB_BACKEND}': use one of ${BACKENDS.join(", ")}, or leave it empty`,
    );
  }
  return {
    root,
    dataDir: join(root, ".data"),
    postgres: postgresTarget(DATABASE_URL),
    redis: REDIS_URL ? redisTarget(REDIS_URL) : undefined,
    backend: (DB_BACKEND || undefined) as BackendName | undefined,
  };
}

/** Refuse to touch a server that is not on this machine. */
export function requireLocal(config: Config, action: string): void {
  const { host } = config.postgres;
  if (!isLocalHost(host)) {
    throw new CliError(
      `refusing to ${action}: DATABASE_URL points at ${host}, not this machine (only ${LOCAL_HOSTS.slice(0, 3).join(", ")} are local)`,
    );
  }
}
