// One program run to its end, its output collected: node's execFile, nothing more. For the paths
// that must start fast (`db check` in the pre-commit hook runs squawk): zx's $ (system.ts `sh`)
// costs its loading, ≈30 ms of every such call.

import { execFile } from "node:child_process";

export interface Ran {
  stdout: string;
  stderr: string;
  /** null when it did not start or was killed (the reason is then in stderr). */
  exitCode: number | null;
}

/** Run `file` with `args`; resolves however it ends (never rejects), stdin closed. */
export function runFile(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { ...options, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({
          stdout,
          stderr: error && typeof code !== "number" ? `${stderr}${error.message}\n` : stderr,
          exitCode: error ? (typeof code === "number" ? code : null) : 0,
        });
      },
    );
    child.stdin?.end();
  });
}
