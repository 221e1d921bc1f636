// Run the `db` CLI as a process against a throwaway project directory (KATA_DB_ROOT), the way a
// person or CI runs it: real servers, real exit codes, real output.

import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { which } from "../../scripts/basics/system.ts";
import { readJournal } from "../../src/migrations.ts";
import { atFileEnd } from "../helpers/file-end.ts";
import { testPort } from "../helpers/ports.ts";

export const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Every committed migration's tag: what a fresh `db up` must apply. */
export const MIGRATION_TAGS = readJournal().entries.map((entry) => entry.tag);

/** Long enough to be registered as a secret: it must appear in no output at all. */
export const PASSWORD = "cli-Test-Passw0rd";

export interface Project {
  root: string;
  databaseUrl: string;
  redisUrl: string;
  pgPort: number;
  redisPort: number;
}

/** A temp directory, removed after the test file (after its own afterAll hooks, which stop servers). */
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  atFileEnd(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** A project directory with a .env on free ports (plus `extra` lines). */
export async function makeProject(extra = ""): Promise<Project> {
  const root = tempDir("kata-db-cli-");
  // As root the server runs as `postgres`, which must reach .data/ in here (mkdtemp gives 0700).
  chmodSync(root, 0o755);
  const [pgPort, redisPort] = [await testPort(), await testPort()];
  const databaseUrl = `postgres://kata:${PASSWORD}@127.0.0.1:${pgPort}/kata`;
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  writeFileSync(join(root, ".env"), `DATABASE_URL=${databaseUrl}\nREDIS_URL=${redisUrl}\n${extra}`);
  return { root, databaseUrl, redisUrl, pgPort, redisPort };
}

export const removeProject = (project: Project) =>
  rmSync(project.root, { recursive: true, force: true });

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The variables a developer's shell may carry that would override the project's .env. */
const INHERITED_CONFIG = ["DATABASE_URL", "REDIS_URL", "DB_BACKEND", "KATA_DB_ROOT", "DEBUG"];

export interface RunOptions {
  env?: Record<string, string>;
  /** Replaces PATH for the CLI (node itself is started by absolute path). */
  path?: string;
  /** Called with the child once spawned (e.g. to interrupt it). */
  onSpawn?: (pid: number) => void;
}

export function db(root: string, args: string[], options: RunOptions = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_CONFIG) delete env[name];
  Object.assign(env, { KATA_DB_ROOT: root, FORCE_COLOR: "0" }, options.env);
  if (options.path !== undefined) env.PATH = options.path;
  // The bundle scripts/bin/db would run, built once by the global setup (node by absolute
  // path: a test may replace PATH).
  return runProcess(process.execPath, [inject("cliBundle"), ...args], env, options.onSpawn);
}

/** Run a program to its end with stdin closed (no terminal), collecting its output. */
export function runProcess(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  onSpawn?: (pid: number) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a test can send Ctrl-C to it and its children like a terminal.
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("spawn", () => onSpawn?.(child.pid as number));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A failure's whole output: exactly one line, starting with ✖, and no stack trace. */
export function oneLineError(run: Run): string {
  const lines = run.stderr.split("\n").filter(Boolean);
  const errors = lines.filter((line) => line.startsWith("✖"));
  if (errors.length !== 1 || /^\s+at /m.test(run.stderr)) {
    throw new Error(`expected one ✖ line and no stack trace, got:\n${run.stderr}`);
  }
  return errors[0] as string;
}

/**
 * A PATH holding only the basic tools the CLI and the cluster helpers call (no docker, no
 * PostgreSQL, no Redis), to exercise the automatic choice and Redis's absence.
 */
export function bareBin(): string {
  const dir = tempDir("kata-db-bin-");
  chmodSync(dir, 0o755);
  const tools = ["bash", "sh", "id", "chown", "chmod", "test", "useradd", "tail", "env"];
  for (const tool of tools) {
    const source = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
      .map((from) => join(from, tool))
      .find(existsSync);
    if (source) symlinkSync(source, join(dir, tool));
  }
  return dir;
}

/**
 * This PATH with some programs hidden, as on a machine that lacks them: one directory of links to
 * every other program PATH finds (the first of each name, as a lookup would), nothing else.
 */
export function pathWithout(hidden: string[], path = process.env.PATH ?? ""): string {
  const dir = tempDir("kata-db-path-");
  chmodSync(dir, 0o755);
  const linked = new Set(hidden);
  for (const from of path.split(delimiter)) {
    let names: string[] = [];
    try {
      names = readdirSync(from);
    } catch {}
    for (const name of names) {
      if (linked.has(name) || !which(name, from)) continue;
      linked.add(name);
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return dir;
}

/** A directory holding a fake `docker` that answers like a client without an engine. */
export function dockerWithoutEngine(): string {
  const dir = tempDir("kata-db-docker-");
  const docker = join(dir, "docker");
  writeFileSync(
    docker,
    "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n",
  );
  chmodSync(docker, 0o755);
  return dir;
}
