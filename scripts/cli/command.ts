// The shape of one `db` subcommand. scripts/commands/table.ts lists them: what `db --help`, the
// flag parser and the argument checks need, light; each command's implementation (and the heavy
// packages it uses: postgres, drizzle-kit, zx…) is imported only when that command runs, so that
// help, usage errors and configuration errors answer at node's own start-up speed.

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

/** A command's implementation (scripts/commands/<name>.ts), loaded when it runs. */
export interface Runner {
  /** Resolves with the exit code (0 when nothing is returned). */
  run(args: Args): Promise<number | undefined>;
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
  /**
   * What can be refused before the implementation loads, in the order the command would refuse
   * it: the arguments (a UsageError) and the configuration (loadConfig's CliError), for commands
   * whose first step is reading it. Light modules only (no package beyond node's own).
   */
  before?(args: Args): void;
  /**
   * False when this run opens no database connection (`db check` without --database, `db sum`,
   * `db generate`): the connect deadline (src/connection.ts, and so postgres) is then not loaded.
   * Default: it may connect.
   */
  connects?(args: Args): boolean;
  /** The implementation: a dynamic import(), its own chunk of the bundle. */
  load(): Promise<{ default: Runner }>;
}
