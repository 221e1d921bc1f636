// docker-compose.yml, checked without a Docker engine (docker.test.ts runs it on one): valid
// against the Compose specification's JSON schema, the PostgreSQL major of the other backends,
// the data where the postgres:18 image keeps it, and defaults that agree with .env.example.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { COMPOSE_FILE, composeEnv, composeProject } from "../../scripts/backends/docker.ts";
import type { Config } from "../../scripts/basics/env.ts";
import { checkoutId, clusterName } from "../../scripts/checkout/identity.ts";
import { composeValidator } from "../../scripts/validate-compose.ts";
import { POSTGRES_MAJOR } from "../../src/postgres-cluster.ts";
import { PACKAGE_ROOT } from "./helpers.ts";

interface Service {
  image: string;
  ports: string[];
  volumes: string[];
  environment?: Record<string, string>;
  command?: string[];
  healthcheck: { test: string[]; start_period?: string };
}
const compose = YAML.parse(readFileSync(COMPOSE_FILE, "utf8")) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { postgres, redis } = compose.services as { postgres: Service; redis: Service };

describe("docker-compose.yml", () => {
  const validate = composeValidator();

  it("is valid against the Compose specification's JSON schema", () => {
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
  });

  it("the validation is real: a bad health check duration and an unknown key fail", () => {
    const broken = structuredClone(compose) as Record<string, unknown> & typeof compose;
    (broken.services.postgres as Service).healthcheck.start_period = "soon";
    (broken.services.redis as unknown as Record<string, unknown>).restart_policy = "always";
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(["/services/postgres/healthcheck/start_period", "/services/redis"]),
    );
  });

  it("runs the PostgreSQL major of the other backends, and Redis 7", () => {
    expect(postgres.image).toBe(`postgres:${POSTGRES_MAJOR}`);
    expect(redis.image).toBe("redis:7");
  });

  it("keeps PostgreSQL's data where the 18+ image does (/var/lib/postgresql), in named volumes", () => {
    expect(postgres.volumes).toEqual(["postgres-data:/var/lib/postgresql"]);
    expect(redis.volumes).toEqual(["redis-data:/data"]);
    expect(Object.keys(compose.volumes)).toEqual(["postgres-data", "redis-data"]);
  });

  it("binds ports to 127.0.0.1 only and waits on health checks with a start period", () => {
    for (const service of [postgres, redis]) {
      for (const port of service.ports) expect(port).toMatch(/^127\.0\.0\.1:/);
      expect(service.healthcheck.start_period).toMatch(/^\d+s$/);
    }
  });

  it("defaults to what .env.example says, so a bare `docker compose up` matches it", () => {
    const example = parseEnv(readFileSync(join(PACKAGE_ROOT, ".env.example"), "utf8"));
    const pg = new URL(example.DATABASE_URL as string);
    const rd = new URL(example.REDIS_URL as string);
    const defaults = Object.fromEntries(
      [...readFileSync(COMPOSE_FILE, "utf8").matchAll(/\$\{(\w+):-([^}]*)\}/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    expect(defaults).toEqual({
      POSTGRES_USER: pg.username,
      POSTGRES_PASSWORD: pg.password,
      POSTGRES_DB: pg.pathname.slice(1),
      POSTGRES_PORT: pg.port,
      REDIS_PORT: rd.port,
      // A bare `docker compose up` is no checkout's `db up`: a cluster_name no checkout claims.
      KATA_CLUSTER_NAME: "kata-db",
    });
  });
});

describe("the docker backend's compose variables", () => {
  const config: Config = {
    root: "/home/ada/Kata Platform",
    dataDir: "/home/ada/Kata Platform/.data",
    postgres: {
      url: "postgres://app:s%40fe@127.0.0.1:6000/app_dev",
      host: "127.0.0.1",
      port: 6000,
      user: "app",
      password: "s@fe",
      database: "app_dev",
    },
    redis: { url: "redis://127.0.0.1:6001", host: "127.0.0.1", port: 6001, password: "" },
    backend: "docker",
  };

  it("come from DATABASE_URL and REDIS_URL, nothing configured twice", () => {
    expect(composeEnv(config)).toEqual({
      POSTGRES_USER: "app",
      POSTGRES_PASSWORD: "s@fe",
      POSTGRES_DB: "app_dev",
      POSTGRES_PORT: "6000",
      REDIS_PORT: "6001",
      KATA_CLUSTER_NAME: clusterName(config.root),
    });
  });

  it("name one compose project per checkout: its directory's name and its id", () => {
    expect(composeProject(config)).toBe(`kata-db-kata-platform-${checkoutId(config.root)}`);
    expect(composeProject({ root: "/home/grace/Kata Platform" })).not.toBe(composeProject(config));
  });

  it("give the server this checkout's cluster_name", () => {
    expect(composeEnv(config).KATA_CLUSTER_NAME).toBe(clusterName(config.root));
    expect(postgres.command).toEqual([
      "postgres",
      "-c",
      `cluster_name=$\{KATA_CLUSTER_NAME:-kata-db}`,
    ]);
  });
});
