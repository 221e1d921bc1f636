// What every measurement shares: medians, timed processes, throwaway directories that are removed
// at the end (also on failure or Ctrl-C), and the rows of the results table.

import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const TSX_LOADER = join(PACKAGE_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
/** The `db` CLI as a person runs it (scripts/bin on PATH), not through npm. */
export const DB = join(PACKAGE_ROOT, "scripts", "bin", "db");
export const DRIZZLE_KIT = join(PACKAGE_ROOT, "node_modules", ".bin", "drizzle-kit");

// ---------------------------------------------------------------------------------------------
// Results

export interface Row {
  measurement: string;
  /** The median, formatted. */
  value: string;
  /** What it is compared with, measured in the same run: "floor: 1.23 s (initdb + …)". */
  baseline: string;
  ratio: string;
  /** The budget as text, or "—" when the row only reports. */
  budget: string;
  /** undefined: no budget (information only). */
  pass?: boolean;
}

export interface Report {
  rows: Row[];
  /** Markdown sections (a `###` title and a body) printed under the table. */
  sections: string[];
}

export interface Context {
  /** Progress on stderr; the table goes to stdout. */
  log(line: string): void;
}

export interface Measurement {
  /** Short id for `--only`, e.g. "cold-up". */
  id: string;
  title: string;
  measure(ctx: Context): Promise<Report>;
}

/** A row for a measurement that could not run: it fails its budget rather than vanish. */
export function failedRow(measurement: string, why: string, budget = "must run"): Row {
  return { measurement, value: why, baseline: "—", ratio: "—", budget, pass: false };
}

// ---------------------------------------------------------------------------------------------
// Numbers

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Fixed precision per magnitude, so the table's format does not change between runs. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${Math.round(value)} ms`;
  if (value >= 1) return `${value.toFixed(1)} ms`;
  return `${value.toPrecision(3)} ms`;
}

/** value ÷ base; a small one also as "N× faster", which is how it is read. */
export function ratio(value: number, base: number): string {
  const r = value / base;
  if (!Number.isFinite(r) || r <= 0) return "—";
  if (r >= 100) return `${Math.round(r)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}× (${Math.round(1 / r)}× faster)`;
}

/** "1.23 s (n=5, 1.10–1.40)": the median with the spread, for the sections. */
export function spread(samples: number[]): string {
  return `${ms(median(samples))} (n=${samples.length}, ${ms(Math.min(...samples))}–${ms(Math.max(...samples))})`;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** A Markdown table; cells may not contain "|". */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit: what a person at a shell waits for. */
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; by default stdin is closed at once (no terminal). */
  input?: string;
  uid?: number;
  gid?: number;
}

const children = new Set<number>();

/** Run a program to its end; never rejects on a non-zero exit (see mustRun). */
export function run(file: string, args: string[], options: RunOptions = {}): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, {
      cwd: options.cwd ?? PACKAGE_ROOT,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    });
    if (child.pid) children.add(child.pid);
    let stdout = "";
    let stderr = "";
    let exited: { code: number | null; ms: number } | undefined;
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.once("error", reject);
    // Timed at exit, not at "close": a daemon the program started (pg_ctl's server, Redis) may
    // keep a copy of the pipes open. Output is collected until close, or for 200 ms at most.
    const finish = () => {
      if (!exited) return;
      if (child.pid) children.delete(child.pid);
      resolve({ code: exited.code, stdout, stderr, ms: exited.ms });
    };
    child.once("exit", (code) => {
      exited = { code, ms: performance.now() - started };
      setTimeout(finish, 200).unref();
    });
    child.once("close", finish);
  });
}

/** run(), failing with the program's last stderr lines when it exits non-zero. */
export async function mustRun(file: string, args: string[], options: RunOptions = {}) {
  const proc = await run(file, args, options);
  if (proc.code !== 0) {
    const tail = `${proc.stderr}\n${proc.stdout}`.trim().split("\n").slice(-6).join("\n");
    throw new Error(`${[file, ...args].join(" ")} exited ${proc.code}:\n${tail}`);
  }
  return proc;
}

/** Median wall time of `runs` runs of a program that must succeed. */
export async function timeRuns(runs: number, file: string, args: string[], options?: RunOptions) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push((await mustRun(file, args, options)).ms);
  return samples;
}

/**
 * The environment for the `db` CLI: a developer's shell may carry variables that would override
 * the throwaway project's .env (the CLI's own tests strip the same ones).
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0", ...extra };
  for (const name of ["DATABASE_URL", "REDIS_URL", "DB_BACKEND", "KATA_DB_ROOT", "DEBUG"]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started or created is undone at the end, in reverse order.

const cleanups: { what: string; fn: () => unknown }[] = [];

/**
 * Register an undo step; returns a function that runs it now instead (and only once), for
 * things undone as soon as a round is over.
 */
export function onCleanup(what: string, fn: () => unknown): () => Promise<void> {
  const entry = { what, fn };
  cleanups.push(entry);
  return async () => {
    const at = cleanups.indexOf(entry);
    if (at < 0) return;
    cleanups.splice(at, 1);
    await fn();
  };
}

/** Run the cleanups registered so far (newest first); failures are reported, not thrown. */
export async function cleanup(log: (line: string) => void = () => {}): Promise<void> {
  while (cleanups.length > 0) {
    const { what, fn } = cleanups.pop() as (typeof cleanups)[number];
    try {
      await fn();
    } catch (error) {
      log(`cleanup of ${what} failed: ${(error as Error).message}`);
    }
  }
  // A process still running here was interrupted mid-run (Ctrl-C, a failed measurement).
  for (const pid of children) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
  }
}

/**
 * Where the temp directories are: beside the checkout (its node_modules/.cache), on the disk a
 * developer's own checkout and its .data/ are on, not os.tmpdir(): on this machine making a
 * file in /tmp costs 1.1 ms against 0.03 ms elsewhere on the same disk, which made initdb and a
 * cluster copy alike cost the same ~1 s there and says nothing about either. KATA_BENCH_TMPDIR
 * names another place (it must be reachable by the server user as root).
 */
const TEMP_ROOT =
  process.env.KATA_BENCH_TMPDIR ?? join(PACKAGE_ROOT, "node_modules", ".cache", "kata-bench");

/**
 * A temp directory, removed at the end. Open (0755) by default: as root, PostgreSQL runs as
 * `postgres`, which must reach data directories inside it.
 */
export function tempDir(prefix: string): string {
  mkdirSync(TEMP_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TEMP_ROOT, `${prefix}-`));
  chmodSync(dir, 0o755);
  removers.set(
    dir,
    onCleanup(dir, () => rmSync(dir, { recursive: true, force: true })),
  );
  return dir;
}

const removers = new Map<string, () => Promise<void>>();

/** Remove a tempDir() now rather than at the end (a round's data directory, ~40 MB). */
export async function removeTempDir(dir: string): Promise<void> {
  await removers.get(dir)?.();
  removers.delete(dir);
}
