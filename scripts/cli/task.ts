// Output and failure handling shared by every command: one `task(label, fn)` per step (a spinner
// on a terminal, a plain line otherwise, then ✔ or ✖ with the elapsed time), and errors that end
// as one redacted line with a non-zero exit. The stack trace only with DEBUG set.

import { stderrColour as colour, forStream } from "./colour.ts";
import { redact } from "./redact.ts";

/** An expected failure: bad input, a refusal, a missing tool. The message says what to do. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The underlying error this message explains, for DEBUG. */
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/** Wrong command line: exit code 2, like other Unix tools. */
export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}

/** Thrown by task() after printing its ✖ line, so the top level does not print a second one. */
class ReportedError extends Error {
  constructor(readonly original: unknown) {
    super(errorLine(original));
  }
}

/**
 * Progress and diagnostics go to stderr; stdout is kept for results (status, --json). On a
 * terminal, first clear what a running spinner drew on the current line.
 */
export const say = (line: string): void =>
  void process.stderr.write(
    `${process.stderr.isTTY ? "\r\x1b[K" : ""}${redact(forStream(process.stderr, line))}\n`,
  );
/**
 * A result line on stdout. Off a terminal (a pipe, a file, a test) neither writes a control
 * sequence, whatever a tool whose words they relay put in the line.
 */
export const print = (line: string): void =>
  void process.stdout.write(`${redact(forStream(process.stdout, line))}\n`);

export const ok = (line: string) => say(`${colour.green("✔")} ${line}`);
export const warn = (line: string) => say(`${colour.yellow("⚠")} ${line}`);
export const info = (line: string) => say(`${colour.dim("•")} ${line}`);

export const elapsed = (ms: number) =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;

/**
 * A finished child process as zx reports it (its ProcessOutput, thrown or returned with nothrow):
 * told by its shape, so that this frame needs no zx (loading it cost every `db` call ~50 ms).
 */
function isProcessOutput(
  error: unknown,
): error is { stdout: string; stderr: string; exitCode: number | null } {
  if (typeof error !== "object" || error === null) return false;
  const e = error as Record<string, unknown>;
  return typeof e.stdout === "string" && typeof e.stderr === "string" && "exitCode" in e;
}

/** The one line a failure is reduced to: a tool's last stderr line, or the message's first. */
export function errorLine(error: unknown): string {
  if (error instanceof ReportedError) return error.message;
  if (isProcessOutput(error)) {
    const last = (text: string) =>
      text
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .at(-1);
    return redact(last(error.stderr) ?? last(error.stdout) ?? `exit code ${error.exitCode}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return redact(message.split("\n").find((line) => line.trim()) ?? message);
}

export interface Step {
  /** Replace the label printed with ✔, e.g. to add what the step found. */
  done(label: string): void;
}

/** Braille frames drawn every 100 ms before the label, on a terminal only (see task()). */
async function spinner<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  let i = 0;
  const draw = () => process.stderr.write(`\r\x1b[K  ${frames[i++ % frames.length]} ${label}`);
  draw();
  const timer = setInterval(draw, 100);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    process.stderr.write("\r\x1b[K");
  }
}

export async function task<T>(label: string, fn: (step: Step) => Promise<T>): Promise<T> {
  const started = performance.now();
  let doneLabel = label;
  const step: Step = { done: (l) => (doneLabel = l) };
  try {
    // A spinner draws with \r, which is noise in a log: only on a terminal.
    const result = process.stderr.isTTY
      ? await spinner(redact(label), () => fn(step))
      : await fn(step);
    ok(`${doneLabel} ${colour.dim(elapsed(performance.now() - started))}`);
    return result;
  } catch (error) {
    if (error instanceof ReportedError) throw error;
    say(
      `${colour.red("✖")} ${label}: ${errorLine(error)} ${colour.dim(elapsed(performance.now() - started))}`,
    );
    throw new ReportedError(error);
  }
}

/** Print a failure (once), and return the exit code for it. */
export function report(error: unknown): number {
  const cause = error instanceof ReportedError ? error.original : error;
  if (!(error instanceof ReportedError)) say(`${colour.red("✖")} ${errorLine(error)}`);
  if (process.env.DEBUG) {
    for (let e = cause; e instanceof Error; e = e.cause) say(e.stack ?? e.message);
  }
  return cause instanceof CliError ? cause.exitCode : 1;
}
