// The interface every backend implements, and the record of which one ran last in a project.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BACKENDS, type BackendName, type Config } from "../basics/env.ts";
import type { RedisHealth } from "../basics/redis.ts";

export type Service = "postgres" | "redis";

export interface Backend {
  name: BackendName;
  /**
   * Start PostgreSQL and Redis (what is not running yet), wait until they answer, and make sure
   * the DATABASE_URL's database exists. Redis may come back unhealthy with a reason; PostgreSQL
   * failing throws. `why` says how this backend was chosen, for error messages.
   */
  up(config: Config, why: string): Promise<{ redis: RedisHealth }>;
  /** Stop both services; `volumes` also deletes their data. */
  down(config: Config, opts: { volumes: boolean }): Promise<void>;
  /** True when one of its servers runs (switching backends then would collide on the ports). */
  running(config: Config): Promise<boolean>;
  /** Show the services' logs (both when no service is named); resolves with the exit code. */
  logs(config: Config, opts: { service?: Service; follow: boolean }): Promise<number>;
  /**
   * Run a service's client (psql, redis-cli) where the backend has it. Undefined: the client on
   * PATH connects through the URL, which works for any local or remote server.
   */
  client?(config: Config, service: Service, args: string[]): Promise<number>;
}

/** `.data/backend`: the backend of the last successful `db up`, so the next one finds its data. */
const stateFile = (config: Config) => join(config.dataDir, "backend");

export function lastBackend(config: Config): BackendName | undefined {
  try {
    const name = readFileSync(stateFile(config), "utf8").trim();
    return (BACKENDS as readonly string[]).includes(name) ? (name as BackendName) : undefined;
  } catch {
    return undefined;
  }
}

export function recordBackend(config: Config, name: BackendName): void {
  if (lastBackend(config) === name) return;
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(stateFile(config), `${name}\n`);
}

export function forgetBackend(config: Config): void {
  rmSync(stateFile(config), { force: true });
}
