// Drift of a live database: what was changed by hand, next to the migrations it says it applied.
// The applied migrations are replayed into a scratch database on the same server (or, when the
// role may not CREATE DATABASE, into a throwaway local PostgreSQL: then say so, as a different
// server version could word a definition differently), and the two catalogs (src/catalog.ts:
// tables, columns with types and defaults, constraints, indexes, triggers, functions, enums) are
// compared. Each difference is one line.

import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { type SchemaCatalog, schemaCatalog } from "../../src/catalog.ts";
import { openPostgres } from "../../src/connection.ts";
import { sha256 } from "../../src/hash.ts";
import { MIGRATIONS_FOLDER, type Migration, readMigrations } from "../../src/migrations.ts";
import { migrationStatus, refusalOf } from "../../src/migrator.ts";
import {
  embeddedBinaries,
  freePort,
  initCluster,
  makeServerDir,
  startCluster,
  stopCluster,
} from "../../src/postgres-cluster.ts";

/** The project's cache of replayed catalogs, in its git-ignored .data/. */
export const driftCache = (config: { dataDir: string }) => join(config.dataDir, "drift-cache");

export interface DriftReport {
  /** One line per difference; empty when the live schema is what its migrations make. */
  differences: string[];
  /** Where the migrations were replayed, for the report. */
  replayedIn: string;
}

const connect = (url: string) => openPostgres(url, { max: 1, idle_timeout: 1 });

async function replay(url: string, migrations: Migration[]): Promise<SchemaCatalog> {
  const sql = connect(url);
  try {
    for (const migration of migrations) {
      const run = async (q: Pick<postgres.Sql, "unsafe">) => {
        for (const statement of migration.statements) await q.unsafe(statement).simple();
      };
      if (migration.transactional) await sql.begin(run);
      else await run(sql);
    }
    return await schemaCatalog(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A scratch database on the live server, or undefined when the role may not create one. */
async function scratchOnServer(
  liveUrl: string,
  migrations: Migration[],
): Promise<SchemaCatalog | undefined> {
  const name = `kata_drift_${randomBytes(6).toString("hex")}`;
  const maintenance = new URL(liveUrl);
  maintenance.pathname = "/postgres";
  const admin = connect(maintenance.toString());
  try {
    try {
      await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE template0`);
    } catch (error) {
      if ((error as { code?: string }).code === "42501") return undefined;
      throw error;
    }
    const scratch = new URL(liveUrl);
    scratch.pathname = `/${name}`;
    try {
      return await replay(scratch.toString(), migrations);
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/** A throwaway PostgreSQL of the embedded binaries on 127.0.0.1, removed afterwards. */
async function scratchLocally(migrations: Migration[]): Promise<SchemaCatalog> {
  const bin = await embeddedBinaries();
  const root = mkdtempSync(join(tmpdir(), "kata-db-drift-"));
  const dataDir = join(root, "data");
  const password = randomBytes(12).toString("hex");
  try {
    makeServerDir(root);
    await initCluster({ bin, dataDir, superuser: "kata", password });
    const port = await freePort();
    await startCluster({ bin, dataDir, port, settings: { fsync: "off" } });
    try {
      return await replay(`postgres://kata:${password}@127.0.0.1:${port}/postgres`, migrations);
    } finally {
      await stopCluster({ bin, dataDir, mode: "immediate" }).catch(() => {});
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Each difference between the live catalog and the replayed one, one line each. */
export function compareCatalogs(live: SchemaCatalog, expected: SchemaCatalog): string[] {
  const lines: string[] = [];
  const tables = new Set([...Object.keys(live.columns), ...Object.keys(expected.columns)]);
  for (const table of [...tables].sort()) {
    const have = live.columns[table];
    const want = expected.columns[table];
    if (!want) lines.push(`table ${table}: in the database, not made by its migrations`);
    else if (!have) lines.push(`table ${table}: made by the migrations, missing from the database`);
    else lines.push(...diff(`column ${table}.`, have, want));
  }
  const kinds = ["constraints", "indexes", "triggers", "functions", "enums"] as const;
  const singular = {
    constraints: "constraint",
    indexes: "index",
    triggers: "trigger",
    functions: "function",
    enums: "enum",
  };
  for (const kind of kinds) {
    // A table only one side has already says so: its constraints and indexes are not repeated.
    const onlyOneSide = (def: unknown) =>
      [...tables].some(
        (t) =>
          (!live.columns[t] || !expected.columns[t]) &&
          typeof def === "string" &&
          (def.startsWith(`${t}: `) || def.includes(` ON public.${t} `)),
      );
    const have = Object.fromEntries(Object.entries(live[kind]).filter(([, d]) => !onlyOneSide(d)));
    const want = Object.fromEntries(
      Object.entries(expected[kind]).filter(([, d]) => !onlyOneSide(d)),
    );
    lines.push(...diff(`${singular[kind]} `, have, want));
  }
  return lines;
}

const show = (value: unknown) => {
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}…` : flat;
};

function diff(prefix: string, have: Record<string, unknown>, want: Record<string, unknown>) {
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(have), ...Object.keys(want)])].sort()) {
    const h = have[name];
    const w = want[name];
    if (w === undefined)
      lines.push(`${prefix}${name}: in the database, not made by its migrations (${show(h)})`);
    else if (h === undefined)
      lines.push(`${prefix}${name}: made by the migrations, missing from the database`);
    else if (JSON.stringify(h) !== JSON.stringify(w)) {
      lines.push(
        `${prefix}${name}: differs: the database has ${show(h)}; the migrations make ${show(w)}`,
      );
    }
  }
  return lines;
}

/**
 * Compare the live database with its applied migrations replayed. Refuses (throws the
 * migrator's refusal) when an applied migration is modified or unknown: then there is nothing
 * trustworthy to replay.
 */
export async function liveDrift(
  url: string,
  opts: {
    folder?: string;
    /**
     * Where to keep replayed catalogs (e.g. .data/drift-cache): the catalog the migrations make
     * depends only on them, the server's version and the catalog queries, so a second check of
     * the same history needs no scratch database (`db status` stays fast).
     */
    cacheDir?: string;
  } = {},
): Promise<DriftReport> {
  const folder = opts.folder ?? MIGRATIONS_FOLDER;
  const status = await migrationStatus({ url, folder });
  const refused = refusalOf(status);
  if (refused) throw new Error(refused.replace(/^refusing to migrate/, "cannot check drift"));
  const applied = new Set(status.applied);
  const migrations = readMigrations(folder).filter((m) => applied.has(m.tag));
  const sql = connect(url);
  let live: SchemaCatalog;
  let version: string;
  try {
    live = await schemaCatalog(sql);
    version = String((await sql`SELECT current_setting('server_version') AS v`)[0]?.v);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const key = sha256(
    JSON.stringify([version, migrations.map((m) => m.hash), readFileSync(CATALOG_SOURCE, "utf8")]),
  );
  const cacheFile = opts.cacheDir ? join(opts.cacheDir, `${key}.json`) : undefined;
  const cached = cacheFile && existsSync(cacheFile) ? readCache(cacheFile) : undefined;
  if (cached) {
    return {
      differences: compareCatalogs(live, cached.catalog),
      replayedIn: `${cached.replayedIn} (its catalog remembered from an earlier check)`,
    };
  }
  let expected = await scratchOnServer(url, migrations);
  let replayedIn = "a scratch database on the same server";
  if (!expected) {
    expected = await scratchLocally(migrations);
    replayedIn =
      "a throwaway local PostgreSQL (the role of DATABASE_URL may not CREATE DATABASE on its server)";
  }
  if (cacheFile && opts.cacheDir) {
    try {
      mkdirSync(opts.cacheDir, { recursive: true });
      // Written whole, then renamed: a concurrent reader never sees half a file.
      const partial = `${cacheFile}.${process.pid}.partial`;
      writeFileSync(partial, JSON.stringify({ catalog: expected, replayedIn }));
      renameSync(partial, cacheFile);
    } catch {} // a cache that cannot be written only costs the next check a replay
  }
  return { differences: compareCatalogs(live, expected), replayedIn };
}

/** src/catalog.ts itself: a change to the queries invalidates every remembered catalog. */
const CATALOG_SOURCE = fileURLToPath(new URL("../../src/catalog.ts", import.meta.url));

function readCache(file: string): { catalog: SchemaCatalog; replayedIn: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}
