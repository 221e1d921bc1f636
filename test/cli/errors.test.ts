// Bad input and refusals: each one line (✖ …) that says what to do, a non-zero exit, no stack
// trace, no password, and nothing started or deleted.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portInUse, which } from "../../scripts/basics/system.ts";
import {
  bareBin,
  db,
  dockerWithoutEngine,
  makeProject,
  oneLineError,
  PACKAGE_ROOT,
  PASSWORD,
  type Project,
  removeProject,
} from "./helpers.ts";

let project: Project;
beforeAll(async () => {
  project = await makeProject();
});
afterAll(() => removeProject(project));

/** Run with DATABASE_URL (and more) set in the environment, which wins over .env. */
const withEnv = (args: string[], env: Record<string, string>) => db(project.root, args, { env });

describe("configuration", () => {
  it.each([
    ["not a URL", `postgres//kata:${PASSWORD}@127.0.0.1:5432/kata`, /is not a valid URL/],
    ["another scheme", `mysql://kata:${PASSWORD}@127.0.0.1:3306/kata`, /must start with postgres/],
    ["no database name", `postgres://kata:${PASSWORD}@127.0.0.1:5432/`, /has no database name/],
    ["no user", `postgres://127.0.0.1:5432/kata`, /has no user/],
  ])("DATABASE_URL with %s", async (_, url, message) => {
    const result = await withEnv(["status"], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    const line = oneLineError(result);
    expect(line).toMatch(/^✖ DATABASE_URL \(from the environment\) /);
    expect(line).toMatch(message);
    expect(line).toContain("expected e.g. postgres://");
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it("a malformed DATABASE_URL in .env says it is in .env", async () => {
    const root = (await makeProject()).root;
    writeFileSync(
      join(root, ".env"),
      "DATABASE_URL=postgres://kata:kata@127.0.0.1:notaport/kata\n",
    );
    const result = await db(root, ["up"]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/^✖ DATABASE_URL \(in \.env\) is not a valid URL/);
  });

  it("no DATABASE_URL at all (no .env, nothing in the environment)", async () => {
    const root = (await makeProject()).root;
    const result = await db(root, ["migrate"], { env: { KATA_DB_ROOT: join(root, "elsewhere") } });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/DATABASE_URL is not set: run `db up`/);
  });

  it("an unknown DB_BACKEND", async () => {
    const result = await withEnv(["up"], { DB_BACKEND: "podman" });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /DB_BACKEND .* is 'podman': use one of docker, native, embedded/,
    );
  });
});

describe("usage", () => {
  it.each([
    [["up", "--backend", "podman"], /--backend must be one of docker, native, embedded/],
    [["up", "--bogus"], /unknown option --bogus for `db up`/],
    [["up", "-x"], /unknown option -x for `db up`/],
    [["up", "--backend"], /Option '--backend <value>' argument missing for `db up`/],
    [["down", "--volumes=yes"], /Option '--volumes' does not take an argument for `db down`/],
    [["status", "extra"], /unexpected argument 'extra'/],
    [["logs", "mysql"], /unknown service 'mysql'/],
    [["generate", "--name", "Bad Name"], /--name takes lowercase letters/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("db %j exits 2", async (args, message) => {
    const result = await db(project.root, args);
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toMatch(message);
  });

  it("db --help lists every command; db <cmd> --help shows its usage", async () => {
    const help = await db(project.root, ["--help"]);
    expect(help.code).toBe(0);
    for (const name of [
      "up",
      "down",
      "status",
      "migrate",
      "generate",
      "sum",
      "check",
      "reset",
      "seed",
      "psql",
      "redis-cli",
      "logs",
      "prune",
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    }
    const up = await db(project.root, ["up", "--help"]);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^Usage: db up \[--backend docker\|native\|embedded\]/);
    const bare = await db(project.root, []);
    expect(bare.code).toBe(2);
  });

  it("the `db` wrapper in scripts/bin runs from any directory", async () => {
    const { execFile } = await import("node:child_process");
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        join(PACKAGE_ROOT, "scripts", "bin", "db"),
        ["--help"],
        { cwd: "/" },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    expect(stdout).toContain("Usage: db <command>");
  });
});

describe("refusals", () => {
  const remote = { DATABASE_URL: `postgres://kata:${PASSWORD}@db.example.com:5432/kata` };

  it.each([
    [["reset"], /refusing to reset the database: DATABASE_URL points at db\.example\.com/],
    [["down", "--volumes"], /refusing to delete data .* points at db\.example\.com/],
    [["up"], /`db up` starts a stack on this machine, but DATABASE_URL points at db\.example\.com/],
  ])("db %j against a remote host", async (args, message) => {
    const result = await withEnv(args, remote);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(message);
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it("reset of PostgreSQL's own maintenance database", async () => {
    const url = `postgres://kata:${PASSWORD}@127.0.0.1:${project.pgPort}/postgres`;
    const result = await withEnv(["reset"], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/refusing to reset postgres/);
  });

  it("reset without a terminal and without --yes: says what it would delete, touches nothing", async () => {
    const result = await db(project.root, ["reset"]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      new RegExp(
        `db reset deletes every row of database kata at 127\\.0\\.0\\.1:${project.pgPort} .*: refusing without a terminal to ask on; add --yes to go ahead`,
      ),
    );
  });

  it("migrate with nothing listening says to run db up", async () => {
    const result = await db(project.root, ["migrate"]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /PostgreSQL is not reachable at 127\.0\.0\.1:\d+: start it with `db up`/,
    );
  });
});

describe("db up refuses a machine it cannot use, before touching anything", () => {
  let blocker: Server;
  afterAll(() => blocker?.close());

  it("the port of DATABASE_URL is taken by another program", async () => {
    const taken = await makeProject();
    blocker = createServer().listen(taken.pgPort, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const result = await db(taken.root, ["up", "--backend", "embedded"]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      new RegExp(`port ${taken.pgPort} of DATABASE_URL is in use by another program`),
    );
    expect(existsSync(join(taken.root, ".data", "postgres"))).toBe(false);
    removeProject(taken);
  });

  it.skipIf(!which("redis-server"))(
    "the port of REDIS_URL is taken: the PostgreSQL it started is stopped again",
    async () => {
      const taken = await makeProject();
      const redisBlocker = createServer().listen(taken.redisPort, "127.0.0.1");
      await new Promise((resolve) => redisBlocker.once("listening", resolve));
      try {
        const result = await db(taken.root, ["up", "--backend", "embedded"]);
        expect(result.code).toBe(1);
        expect(oneLineError(result)).toMatch(
          new RegExp(`port ${taken.redisPort} of REDIS_URL is in use by another program`),
        );
        expect(result.stderr).toMatch(/stopped PostgreSQL again/);
        // Nothing half-started: no server on DATABASE_URL's port, none left in .data/postgres.
        expect(await portInUse(taken.pgPort, "127.0.0.1")).toBe(false);
        expect(existsSync(join(taken.root, ".data", "postgres", "postmaster.pid"))).toBe(false);
      } finally {
        redisBlocker.close();
        removeProject(taken);
      }
    },
  );

  it("a data directory of another PostgreSQL major", async () => {
    const old = await makeProject();
    mkdirSync(join(old.root, ".data", "postgres"), { recursive: true });
    writeFileSync(join(old.root, ".data", "postgres", "PG_VERSION"), "15\n");
    const result = await db(old.root, ["up", "--backend", "embedded"]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /\.data\/postgres holds a PostgreSQL 15 cluster but this project runs 18: move it away/,
    );
    expect(existsSync(join(old.root, ".data", "postgres", "PG_VERSION"))).toBe(true);
    removeProject(old);
  });

  it("native asked for, with a PostgreSQL of another major on PATH", async () => {
    const bin = bareBin();
    const fake = join(bin, "postgres");
    writeFileSync(fake, "#!/bin/sh\necho 'postgres (PostgreSQL) 15.18'\n", { mode: 0o755 });
    writeFileSync(join(bin, "pg_ctl"), "", { mode: 0o755 });
    writeFileSync(join(bin, "initdb"), "", { mode: 0o755 });
    const result = await db(project.root, ["up", "--backend", "native"], { path: bin });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /the PostgreSQL on PATH \(.*\) is 15, this project runs 18/,
    );
  });
});

// A docker client with no engine behind it (a fake one, so this holds whether or not an engine
// answers here; docker.test.ts runs the backend on a real engine when one does).
describe("docker asked for but not running", () => {
  it.each([
    ["--backend docker", ["up", "--backend", "docker"], {}],
    ["DB_BACKEND=docker", ["up"], { DB_BACKEND: "docker" }],
  ])("%s, a docker client without an engine", async (why, args, env) => {
    const path = `${dockerWithoutEngine()}${delimiter}${bareBin()}`;
    const result = await db(project.root, args, { env, path });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      `✖ Docker asked for (${why}) but no Docker engine answers \`docker info\`: start Docker, or use --backend native or --backend embedded`,
    );
  });

  it("no docker command at all", async () => {
    const result = await db(project.root, ["up", "--backend", "docker"], { path: bareBin() });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /Docker asked for \(--backend docker\) but the docker command is not installed/,
    );
  });
});

describe("check", () => {
  it("db check passes on the committed tree", async () => {
    const result = await db(project.root, ["check"]);
    expect(result.code, result.stderr).toBe(0);
  });
});
