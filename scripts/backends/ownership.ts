// No command takes another checkout's server, or a system PostgreSQL, for this checkout's own.
// Every server `db up` starts says who started it in cluster_name (scripts/checkout/identity.ts);
// a server from before that is told by the backend that ran last and its postmaster.pid, which is
// why this lives with the backends.

import { type Config, isLocalHost } from "../basics/env.ts";
import { probePostgres } from "../basics/pg.ts";
import { checkoutId, describeOwner, parseClusterName } from "../checkout/identity.ts";
import { CliError } from "../cli/task.ts";
import { lastBackend } from "./backend.ts";
import { postgresDir, runningPostgres } from "./local.ts";

/**
 * Why the local server at DATABASE_URL is not this checkout's, or undefined when it is (or when
 * that cannot be told: a remote server, a local one the user pointed at without `db up`, the
 * docker backend, whose containers are told apart by their compose project).
 */
export function notOurs(config: Config, name: string | undefined): string | undefined {
  const { host, port } = config.postgres;
  if (!isLocalHost(host)) return undefined;
  const owner = parseClusterName(name);
  const backend = lastBackend(config);
  if (owner) {
    if (owner.id === checkoutId(config.root)) return undefined;
  } else {
    if (backend !== "native" && backend !== "embedded") return undefined;
    // A server of this checkout started before servers were named: its pid file says so.
    if (runningPostgres(postgresDir(config))?.port === port) return undefined;
  }
  const who = describeOwner(name, config.root);
  return `PostgreSQL at ${host}:${port} is ${owner ? `${who}'s` : who}, not this checkout's`;
}

/** Refuse to work on another checkout's server; a server that does not answer is left to the caller. */
export async function requireOwnServer(config: Config): Promise<void> {
  if (!isLocalHost(config.postgres.host)) return;
  const health = await probePostgres(config.postgres.url);
  if (!health.healthy) return;
  const why = notOurs(config, health.clusterName);
  if (why) {
    throw new CliError(
      `${why}: give this checkout its own port in DATABASE_URL (.env), then \`db up\``,
    );
  }
}
