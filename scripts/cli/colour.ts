// Colour for the CLI's own output, decided per stream: only on a terminal (TERM not "dumb"), and
// never when NO_COLOR is set to anything (https://no-color.org) or FORCE_COLOR is "0" or "false"
// (as chalk reads it). Off a terminal nothing the CLI writes holds an escape sequence, whatever
// FORCE_COLOR says: a log, a pipe or a test reads plain text (say/print also strip what a relayed
// tool's words hold: forStream). It replaces zx's chalk, which looked at stdout alone for both
// streams and, with the rest of zx, cost every `db` call its loading.

import { stripVTControlCharacters } from "node:util";

const CODES = { green: 32, yellow: 33, red: 31, dim: 2 } as const;
export type Colour = keyof typeof CODES;

/** Whether `stream` gets colour, from the environment at the time of the call. */
export function colourful(stream: { isTTY?: boolean }): boolean {
  const env = process.env;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR === "0" || env.FORCE_COLOR === "false") return false;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

export type Paint = Record<Colour, (text: string) => string>;

function paint(stream: { isTTY?: boolean }): Paint {
  const wrap = (code: number, close: number) => (text: string) =>
    colourful(stream) ? `\x1b[${code}m${text}\x1b[${close}m` : text;
  return {
    green: wrap(CODES.green, 39),
    yellow: wrap(CODES.yellow, 39),
    red: wrap(CODES.red, 39),
    dim: wrap(CODES.dim, 22),
  };
}

/** For lines written to stderr (progress, diagnostics: say/ok/warn/info). */
export const stderrColour: Paint = paint(process.stderr);
/** For lines written to stdout (results: `db status`). */
export const stdoutColour: Paint = paint(process.stdout);

/**
 * `text` without terminal control sequences (colour, cursor moves, titles): for a tool's output
 * relayed. Node's own stripVTControlCharacters (the pattern of the ansi-regex package).
 */
export const plain = (text: string): string => stripVTControlCharacters(text);

/** `text` as it may go to `stream`: unchanged on a terminal, without control sequences elsewhere. */
export const forStream = (stream: { isTTY?: boolean }, text: string): string =>
  stream.isTTY ? text : plain(text);
