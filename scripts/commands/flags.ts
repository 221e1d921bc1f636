// The checks of commands' arguments that need no package: called by the command table before a
// command's implementation loads (a usage error answers at once), and by the implementation
// itself, which uses what they return. Light on purpose: node's own modules and cli/ only.

import { BACKENDS, type BackendName } from "../basics/env.ts";
import type { Args } from "../cli/command.ts";
import { UsageError } from "../cli/task.ts";

/** `db up --backend`. */
export function backendFlag(value: unknown): BackendName | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (BACKENDS as readonly string[]).includes(value)) {
    return value as BackendName;
  }
  throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}`);
}

/** `db logs [postgres|redis]`. */
export function serviceArg(args: Args): "postgres" | "redis" | undefined {
  const service = args._[0];
  if (service !== undefined && service !== "postgres" && service !== "redis") {
    throw new UsageError(`unknown service '${service}': postgres or redis`);
  }
  return service;
}

/** `db check --base REF`. */
export function baseRef(args: Args): string | undefined {
  if (args.base !== undefined && (typeof args.base !== "string" || args.base === "")) {
    throw new UsageError("--base takes a git ref, e.g. --base origin/main");
  }
  return args.base;
}

/** `db sum FOLDER`. */
export function sumFolderArg(args: Args): string {
  const [given] = args._;
  if (!given) throw new UsageError("db sum needs the migrations folder: db sum FOLDER");
  return given;
}

/**
 * `db roles --password-env VAR`: the password, from the environment (after .env is loaded, so
 * after the configuration), or undefined without the flag.
 */
export function passwordFromEnv(args: Args): string | undefined {
  const passwordEnv = args["password-env"];
  if (passwordEnv === undefined) return undefined;
  if (typeof passwordEnv !== "string" || !passwordEnv) {
    throw new UsageError("--password-env needs the name of an environment variable");
  }
  const password = process.env[passwordEnv];
  if (!password)
    throw new UsageError(`--password-env ${passwordEnv}: that variable is empty or not set`);
  return password;
}

/** `db generate --name NAME`. */
export function migrationName(args: Args): string | undefined {
  if (
    args.name !== undefined &&
    (typeof args.name !== "string" || !/^[a-z0-9_]+$/.test(args.name))
  ) {
    throw new UsageError("--name takes lowercase letters, digits and _ (e.g. add_team_quota)");
  }
  return args.name;
}

/** An answer to drizzle-kit's rename question (scripts/commands/drizzle-kit-answers.mjs). */
export interface Answer {
  entity: "column" | "table";
  table?: string;
  /** Renamed from; absent: created. */
  from?: string;
  to: string;
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);

/** `--rename teams.slug=handle` (a column), `--rename teams=groups` (a table), `--create teams.handle`. */
export function generateAnswers(args: Args): Answer[] {
  const name = "[A-Za-z_][A-Za-z0-9_$]*";
  return [
    ...list(args.rename).map((flag): Answer => {
      const column = new RegExp(`^(${name})\\.(${name})=(${name})$`).exec(flag);
      if (column)
        return { entity: "column", table: column[1], from: column[2], to: column[3] as string };
      const table = new RegExp(`^(${name})=(${name})$`).exec(flag);
      if (table) return { entity: "table", from: table[1], to: table[2] as string };
      throw new UsageError(
        `--rename takes table.old_column=new_column or old_table=new_table, not '${flag}'`,
      );
    }),
    ...list(args.create).map((flag): Answer => {
      const column = new RegExp(`^(${name})\\.(${name})$`).exec(flag);
      if (column) return { entity: "column", table: column[1], to: column[2] as string };
      if (new RegExp(`^${name}$`).test(flag)) return { entity: "table", to: flag };
      throw new UsageError(`--create takes table.new_column or new_table, not '${flag}'`);
    }),
  ];
}
