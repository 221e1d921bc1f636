import { migrationStatus } from "../../src/migrator.ts";
import { lastBackend } from "../backends/backend.ts";
import { REDIS_MISSING } from "../backends/local.ts";
import { notOurs } from "../backends/ownership.ts";
import { type Config, isLocalHost, loadConfig } from "../basics/env.ts";
import { probePostgres } from "../basics/pg.ts";
import { pingRedis, type RedisHealth } from "../basics/redis.ts";
import { which } from "../basics/system.ts";
import { type SavedCopy, savedCopies } from "../branches/branch-copies.ts";
import { describeUnknown } from "../branches/migration-origin.ts";
import { stdoutColour as colour, stderrColour } from "../cli/colour.ts";
import type { Runner } from "../cli/command.ts";
import { redact } from "../cli/redact.ts";
import { print, say } from "../cli/task.ts";
import { refuseConflict } from "../guards/conflicts.ts";
import { type DriftReport, driftCache, liveDrift } from "../guards/live-drift.ts";

interface Status {
  /** The backend of the last `db up` here; "external" for a non-local DATABASE_URL; null: none yet. */
  backend: string | null;
  postgres: { url: string; healthy: boolean; version: string | null; reason?: string };
  redis: { url: string | null; healthy: boolean; reason?: string };
  /** The live schema against its applied migrations replayed (scripts/guards/live-drift.ts). */
  drift?: DriftReport;
  /** Saved copies of the local database (scripts/branches/branch-copies.ts), when there are any. */
  copies?: SavedCopy[];
  migrations: {
    applied: string[];
    pending: string[];
    modified: string[];
    unknown: string[];
    /** Applied under another tag/time with the same SQL: `db migrate` moves the record. */
    moved?: string[];
  };
}

/**
 * Redis health, and whether its absence is excused: a native/embedded stack on a machine
 * without redis-server runs without Redis by design (`db up` said so), which is not "unclean".
 */
async function redisStatus(
  config: Config,
  backend: string | null,
): Promise<RedisHealth & { excused: boolean }> {
  if (!config.redis)
    return { healthy: false, reason: "REDIS_URL is not set (see .env.example)", excused: true };
  const health = await pingRedis(config.redis);
  if (health.healthy) return { ...health, excused: false };
  if (backend !== "docker" && backend !== "external" && !which("redis-server")) {
    return { healthy: false, reason: REDIS_MISSING, excused: true };
  }
  return { healthy: false, reason: `${health.reason} — run \`db up\``, excused: false };
}

const megabytes = (bytes: number) =>
  `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;

/** What branch switches kept aside: the data of other branches, and states before migrating. */
function printCopies(copies: SavedCopy[]): void {
  const total = copies.reduce((sum, c) => sum + c.bytes, 0);
  print(
    `copies      ${copies.length} saved, ${megabytes(total)} in all (kept by branch switches and \`db up\`)`,
  );
  for (const c of copies) {
    const whose = c.kind === "branch" ? `${c.branch}` : `${c.branch}, before migrating`;
    print(
      `  ${whose} at ${c.at}, saved ${c.saved.slice(0, 16).replace("T", " ")} UTC, ${megabytes(c.bytes)}  (${c.name})`,
    );
  }
}

function printTable(status: Status, drift: DriftReport | undefined): void {
  const mark = (good: boolean) => (good ? colour.green("✔") : colour.red("✖"));
  const { postgres, redis, migrations } = status;
  print(`backend     ${status.backend ?? "none (run `db up`)"}`);
  print(
    `postgres    ${mark(postgres.healthy)} ${postgres.url}  ${postgres.healthy ? `PostgreSQL ${postgres.version}` : postgres.reason}`,
  );
  print(
    `redis       ${mark(redis.healthy)} ${redis.url ?? "-"}${redis.healthy ? "" : `  ${redis.reason}`}`,
  );
  if (!postgres.healthy) {
    print("migrations  unknown (PostgreSQL not reachable)");
    return;
  }
  const { applied, pending, modified, unknown } = migrations;
  print(
    `migrations  ${applied.length} applied, ${pending.length} pending, ${modified.length} modified, ${unknown.length} unknown`,
  );
  const rows: [string, string[]][] = [
    [colour.green("✔ applied "), applied],
    [colour.yellow("● pending "), pending],
    [colour.red("✖ modified"), modified],
    [colour.red("? unknown "), unknown],
    [colour.yellow("↷ moved   "), migrations.moved ?? []],
  ];
  for (const [label, tags] of rows) for (const tag of tags) print(`  ${label}  ${tag}`);
  if (status.copies) printCopies(status.copies);
  if (!drift) return;
  const { differences, replayedIn } = drift;
  print(
    `drift       ${mark(differences.length === 0)} ${differences.length === 0 ? "none" : `${differences.length} difference(s)`}: the applied migrations replayed in ${replayedIn}`,
  );
  for (const line of differences) print(`  ${colour.red("✖")} ${line}`);
}

export default {
  async run(args) {
    // A conflict in drizzle/ leaves no migrations to compare the database with: say that, and
    // how to resolve it, rather than the journal's JSON parse error.
    await refuseConflict();
    const config = loadConfig();
    const backend = isLocalHost(config.postgres.host) ? (lastBackend(config) ?? null) : "external";
    const [probed, redis] = await Promise.all([
      probePostgres(config.postgres.url),
      redisStatus(config, backend),
    ]);
    // Another checkout's server is not this checkout's database, however healthy.
    const stranger = probed.healthy ? notOurs(config, probed.clusterName) : undefined;
    const pg = stranger ? { ...probed, healthy: false, reason: stranger } : probed;
    const found = pg.healthy ? await migrationStatus({ url: config.postgres.url }) : undefined;
    // Drift: only when the applied history can be trusted (nothing modified or unknown).
    const [drift, copies] = await Promise.all([
      found && found.modified.length === 0 && found.unknown.length === 0
        ? liveDrift(config.postgres.url, { cacheDir: driftCache(config) })
        : undefined,
      pg.healthy ? savedCopies(config) : [], // none for a remote database
    ]);
    const migrations = {
      applied: found?.applied ?? [],
      pending: found?.pending ?? [],
      modified: found?.modified ?? [],
      unknown: found ? await describeUnknown(found.unknownRecords) : [],
      // Only when there are: the contract's four lists are what scripts read.
      ...(found?.moved.length ? { moved: found.moved.map((m) => m.tag) } : {}),
    };
    const status: Status = {
      backend,
      postgres: {
        url: redact(config.postgres.url),
        healthy: pg.healthy,
        version: pg.version ?? null,
        ...(pg.reason ? { reason: pg.reason } : {}),
      },
      redis: {
        url: config.redis ? redact(config.redis.url) : null,
        healthy: redis.healthy,
        ...(redis.reason ? { reason: redis.reason } : {}),
      },
      migrations,
      // Only when there is drift, as `moved`: the contract's shape is what scripts read.
      ...(drift?.differences.length ? { drift } : {}),
      ...(copies.length ? { copies } : {}),
    };
    if (args.json) print(JSON.stringify(status, null, 2));
    else printTable(status, drift);

    const problems = [
      !pg.healthy && `PostgreSQL is down: ${pg.reason} (\`db up\`)`,
      !redis.healthy && !redis.excused && "Redis is down (`db up`)",
      migrations.pending.length > 0 &&
        `${migrations.pending.length} pending migration(s) (\`db migrate\`)`,
      migrations.moved &&
        `${migrations.moved.join(", ")} applied under an earlier tag (\`db migrate\` moves the record)`,
      migrations.modified.length > 0 &&
        `modified: ${migrations.modified.join(", ")} (\`db migrate\` says what to do)`,
      drift?.differences.length &&
        `${drift.differences.length} difference(s) between the database and its migrations (replayed in ${drift.replayedIn})`,
      migrations.unknown.length > 0 &&
        `applied here but not in this checkout: ${migrations.unknown.join("; ")} (\`db migrate\` says what to do)`,
    ].filter(Boolean);
    if (problems.length === 0) return 0;
    say(`${stderrColour.red("✖")} not clean: ${problems.join("; ")}`);
    return 1;
  },
} satisfies Runner;
