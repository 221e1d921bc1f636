// PostgreSQL health and bootstrap over one short-lived postgres.js connection each.

import { type ConnectLimits, connectFailure, openPostgres } from "../../src/connection.ts";
import { CliError } from "../cli/task.ts";
import type { PostgresTarget } from "./env.ts";

/** Within the command's connect deadline (src/connection.ts) unless `limits` says otherwise. */
export const connect = (url: string, limits?: ConnectLimits) =>
  openPostgres(url, { max: 1, idle_timeout: 1 }, limits);

export interface PostgresHealth {
  healthy: boolean;
  /** server_version, e.g. "18.4". */
  version?: string;
  /** The server's cluster_name: who started it (scripts/checkout/identity.ts); "" when unset. */
  clusterName?: string;
  reason?: string;
  /** SQLSTATE or errno code of the failure, e.g. 3D000 (no such database), ECONNREFUSED. */
  code?: string;
}

/** One real query as the URL's user in the URL's database: healthy means usable, not just up. */
export async function probePostgres(url: string, limits?: ConnectLimits): Promise<PostgresHealth> {
  let sql: ReturnType<typeof connect> | undefined;
  try {
    sql = connect(url, limits);
    const [row] = await sql<{ version: string; cluster_name: string }[]>`
      SELECT current_setting('server_version') AS version,
             current_setting('cluster_name') AS cluster_name`;
    return { healthy: true, version: row?.version, clusterName: row?.cluster_name };
  } catch (error) {
    const err = error as Error & { code?: string; address?: string; port?: number };
    const reason = connectFailure(error, url) ?? err.message;
    return { healthy: false, reason, ...(err.code ? { code: err.code } : {}) };
  } finally {
    await sql?.end({ timeout: 1 });
  }
}

/** The same server, in its maintenance database: for CREATE/DROP DATABASE. */
export function maintenanceUrl(target: PostgresTarget): string {
  const url = new URL(target.url);
  url.pathname = target.database === "postgres" ? "/template1" : "/postgres";
  return url.toString();
}

/** CREATE DATABASE of the URL's database, through the maintenance database. */
export async function createDatabase(target: PostgresTarget): Promise<void> {
  const sql = connect(maintenanceUrl(target));
  try {
    await sql`CREATE DATABASE ${sql(target.database)}`;
  } catch (error) {
    // 42P04: created meanwhile by a concurrent `db up`, which is what we wanted.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Probe, creating the URL's database first if the server has none such (3D000). */
export async function ensureDatabase(target: PostgresTarget): Promise<PostgresHealth> {
  const health = await probePostgres(target.url);
  if (health.healthy || health.code !== "3D000") return health;
  await createDatabase(target);
  return probePostgres(target.url);
}

/** Turn the usual connection failures into a line that says what to do; others pass through. */
export function explainPgError(error: unknown, target: PostgresTarget): unknown {
  const code = (error as { code?: string }).code;
  const where = `${target.host}:${target.port}`;
  if (code === "ECONNREFUSED") {
    return new CliError(
      `PostgreSQL is not reachable at ${where}: start it with \`db up\`, or check DATABASE_URL`,
      1,
      error,
    );
  }
  // A deadline passed or the server hung up: say where, and never wait longer.
  const connecting = connectFailure(error, target.url);
  if (connecting) return new CliError(`${connecting}: check DATABASE_URL`, 1, error);
  if (code === "28P01" || code === "28000") {
    return new CliError(
      `PostgreSQL at ${where} refused the user or password of DATABASE_URL`,
      1,
      error,
    );
  }
  if (code === "3D000") {
    return new CliError(
      `database ${target.database} does not exist at ${where}: \`db up\` creates it`,
      1,
      error,
    );
  }
  return error;
}
