// The shape of one `db` subcommand; scripts/db.ts lists them in its command table.

export interface Flags {
  boolean?: string[];
  string?: string[];
  alias?: Record<string, string>;
}

export interface Args {
  /** Positional arguments (or, for a `passThrough` command, every argument untouched). */
  _: string[];
  [flag: string]: unknown;
}

export interface Command {
  name: string;
  /** One line for `db --help`. */
  summary: string;
  /** The usage line and details for `db <name> --help`. */
  help: string;
  /** Accepted flags; any other is a usage error. */
  flags?: Flags;
  /** Most positional arguments accepted (default 0). */
  maxArgs?: number;
  /** Hand the arguments to a client untouched (psql, redis-cli): only a leading --help is ours. */
  passThrough?: boolean;
  /** Resolves with the exit code (0 when nothing is returned). */
  run(args: Args): Promise<number | undefined>;
}
