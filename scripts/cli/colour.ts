// Colour for the CLI's own output, decided per stream: only on a terminal, never when NO_COLOR is
// set to anything (https://no-color.org), and FORCE_COLOR as chalk reads it ("0"/"false": never,
// another value: always). Off a terminal nothing the CLI writes holds an escape sequence: a log,
// a pipe or a test reads plain text. (It replaces zx's chalk, which looks at stdout alone for
// both streams and, with the rest of zx, cost every `db` call its loading.)

const CODES = { green: 32, yellow: 33, red: 31, dim: 2 } as const;
export type Colour = keyof typeof CODES;

/** Whether `stream` gets colour, from the environment at the time of the call. */
export function colourful(stream: { isTTY?: boolean }): boolean {
  const env = process.env;
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
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
