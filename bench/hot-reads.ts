// 6. The platform's hot reads (issue 3) at 1 million rows in tasks, audit_log, spec_versions and
//    api_keys: EXPLAIN must show each using its index, and each is timed against the same data
//    without our secondary indexes (a copy of the database without the non-unique indexes;
//    primary keys and unique constraints stay, as they are part of the data's rules).
//
// Loading 4 million rows with every trigger firing takes minutes on 2 cores (the per-row plpgsql
// and foreign-key triggers), so the data is loaded the way pg_restore does it: secondary indexes
// built after the load, triggers off for the loading session (session_replication_role =
// replica) and what they guard checked afterwards set-wise — every foreign key by an anti-join,
// spec_versions' actor rule, tasks' depends_on (empty). CHECK constraints are always enforced.

import { createHash } from "node:crypto";
import postgres from "postgres";
import { migrate } from "../src/migrator.ts";
import { startTestServer } from "../src/testing/server.ts";
import { databaseUrl } from "../src/testing/template.ts";
import {
  type Measurement,
  median,
  ms,
  onCleanup,
  type Row,
  ratio,
  spread,
  table,
  timed,
} from "./lib.ts";

// Realistic proportions: 1000 teams with 20 specs each; per spec 5 runs, 50 tasks and 50
// versions; 3 artifacts per run; per team 1000 audit entries and 1000 API keys (most revoked or
// expired).
const TEAMS = 1000;
const USERS = 2000;
const SPECS = 20_000;
const RUNS = 100_000;
const ARTIFACTS = 300_000;
const BIG = 1_000_000;

/** Row ids are md5 of a name and a number, so a query's parameters can be computed here. */
const uuid = (name: string, n: number) =>
  createHash("md5")
    .update(`${name}${n}`)
    .digest("hex")
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
const keyHash = (n: number) => createHash("sha256").update(`key${n}`).digest("hex");

/** Small tables first (the big ones refer to them), one statement each. */
const SMALL = [
  `INSERT INTO users (id, email, name, created_at)
   SELECT md5('user' || u)::uuid, 'user' || u || '@example.com', 'User ' || u, now() - interval '400 days'
   FROM generate_series(1, ${USERS}) u`,
  `INSERT INTO teams (id, name, slug, created_at)
   SELECT md5('team' || t)::uuid, 'Team ' || t, 'team-' || t, now() - interval '400 days'
   FROM generate_series(1, ${TEAMS}) t`,
  `INSERT INTO specs (id, team_id, title, status, created_by, created_at, updated_at)
   SELECT md5('spec' || s)::uuid, md5('team' || ((s - 1) % ${TEAMS} + 1))::uuid, 'Spec ' || s,
     (enum_range(NULL::spec_status))[s % 5 + 1], md5('user' || ((s - 1) % ${USERS} + 1))::uuid,
     now() - interval '365 days', now() - (s % 365) * interval '1 day'
   FROM generate_series(1, ${SPECS}) s`,
  // Run r works spec (r - 1) % SPECS + 1; its timestamps follow the status rules of the CHECKs.
  `INSERT INTO agent_runs (id, spec_id, agent_role, environment_id, model, status, started_at, completed_at, created_at)
   SELECT md5('run' || r)::uuid, md5('spec' || ((r - 1) % ${SPECS} + 1))::uuid,
     (enum_range(NULL::agent_role))[r % 3 + 1], md5('env' || r)::uuid, 'claude-sonnet-4', st,
     CASE WHEN st <> 'queued' THEN ts END,
     CASE WHEN st IN ('completed', 'failed') THEN ts + interval '10 minutes' END,
     ts - interval '1 minute'
   FROM generate_series(1, ${RUNS}) r,
     LATERAL (SELECT (enum_range(NULL::agent_run_status))[r % 5 + 1] AS st,
                     now() - (r % 300) * interval '1 day' AS ts) x`,
  `INSERT INTO artifacts (agent_run_id, type, path, created_at)
   SELECT md5('run' || ((a - 1) % ${RUNS} + 1))::uuid, (enum_range(NULL::artifact_type))[a % 6 + 1],
     'runs/' || a || '/artifact', now() - (a % 300) * interval '1 day'
   FROM generate_series(1, ${ARTIFACTS}) a`,
];

/** The four big tables, in two streams of about equal work for the two cores. */
const BIG_STREAMS = [
  [
    // Task k belongs to spec s; assigned/running/completed/failed ones to a run of that spec
    // (s + SPECS * j), which the composite foreign key (agent_run_id, spec_id) requires.
    `INSERT INTO tasks (spec_id, agent_run_id, title, status, created_at, updated_at)
     SELECT md5('spec' || s)::uuid,
       CASE WHEN st NOT IN ('pending', 'skipped') THEN md5('run' || (s + ${SPECS} * (k % 5)))::uuid END,
       'Task ' || k, st, now() - interval '200 days', now() - (k % 200) * interval '1 day'
     FROM generate_series(1, ${BIG}) k,
       LATERAL (SELECT (k - 1) % ${SPECS} + 1 AS s, (enum_range(NULL::task_status))[k % 6 + 1] AS st) x`,
    `INSERT INTO audit_log (team_id, agent_run_id, action, details, timestamp)
     SELECT md5('team' || ((a - 1) % ${TEAMS} + 1))::uuid,
       CASE WHEN a % 4 = 0 THEN md5('run' || (a % ${RUNS} + 1))::uuid END,
       (ARRAY['spec.created', 'spec.updated', 'run.started', 'task.completed'])[a % 4 + 1],
       jsonb_build_object('n', a), now() - (a % 100000) * interval '5 minutes'
     FROM generate_series(1, ${BIG}) a`,
  ],
  [
    // Version v: spec s, number 1..50; every fifth made by an agent run of the same spec.
    `INSERT INTO spec_versions (spec_id, version_number, content, actor_id, actor_type, change_summary, created_at)
     SELECT md5('spec' || s)::uuid, (v - 1) / ${SPECS} + 1, jsonb_build_object('intent', 'version ' || v),
       CASE WHEN v % 5 = 0 THEN md5('run' || (s + ${SPECS} * (v % 5)))::uuid
            ELSE md5('user' || ((s - 1) % ${USERS} + 1))::uuid END,
       CASE WHEN v % 5 = 0 THEN 'agent' ELSE 'user' END::actor_type,
       'change ' || v, now() - (v % 300) * interval '1 day'
     FROM generate_series(1, ${BIG}) v, LATERAL (SELECT (v - 1) % ${SPECS} + 1 AS s) x`,
    // 80% revoked; a third expired, a third expiring later, a third never.
    `INSERT INTO api_keys (team_id, name, key_hash, prefix, created_by, created_at, expires_at, revoked_at)
     SELECT md5('team' || ((i - 1) % ${TEAMS} + 1))::uuid, 'key ' || i,
       encode(sha256(('key' || i)::bytea), 'hex'), 'kata_' || left(md5(i::text), 8),
       md5('user' || ((i - 1) % ${USERS} + 1))::uuid, now() - interval '300 days',
       CASE i % 3 WHEN 0 THEN now() - interval '1 day' WHEN 1 THEN now() + interval '30 days' END,
       CASE WHEN i % 10 < 8 THEN now() - interval '2 days' END
     FROM generate_series(1, ${BIG}) i`,
  ],
];

/** What the triggers that were off for the load would have refused; each query must count 0. */
const TRIGGER_RULES = [
  // spec_versions_actor_id_fkey: a user, or a run of the same spec.
  `SELECT count(*)::int AS n FROM spec_versions v WHERE
     (v.actor_type = 'user' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = v.actor_id)) OR
     (v.actor_type = 'agent' AND NOT EXISTS (
        SELECT 1 FROM agent_runs r WHERE r.id = v.actor_id AND r.spec_id = v.spec_id))`,
  // tasks_depends_on_fkey / tasks_dependents_fkey hold trivially for empty depends_on.
  "SELECT count(*)::int AS n FROM tasks WHERE cardinality(depends_on) > 0",
];

interface HotRead {
  name: string;
  sql: string;
  /** Parameters of the i-th run (cycling through a few teams, specs, runs, keys). */
  params(i: number): (string | number)[];
  /** The index its plan must name. */
  index: string;
}

const PICK = [17, 4242, 9001, 15_000, 19_999];
const pick = (i: number) => PICK[i % PICK.length] as number;

const HOT_READS: HotRead[] = [
  {
    name: "a team's specs, recent first",
    sql: "SELECT id, title, status, updated_at FROM specs WHERE team_id = $1 ORDER BY updated_at DESC LIMIT 50",
    params: (i) => [uuid("team", (pick(i) % TEAMS) + 1)],
    index: "specs_team_id_updated_at_idx",
  },
  {
    name: "a spec's versions, newest first",
    sql: "SELECT id, version_number, actor_type, created_at FROM spec_versions WHERE spec_id = $1 ORDER BY version_number DESC LIMIT 20",
    params: (i) => [uuid("spec", pick(i))],
    index: "spec_versions_spec_id_version_number_key",
  },
  {
    name: "a spec's runs by status",
    sql: "SELECT id, agent_role, status, created_at FROM agent_runs WHERE spec_id = $1 AND status = $2",
    params: (i) => [uuid("spec", pick(i)), "completed"],
    index: "agent_runs_spec_id_status_idx",
  },
  {
    name: "a spec's tasks by status",
    sql: "SELECT id, title, status, agent_run_id FROM tasks WHERE spec_id = $1 AND status = $2",
    params: (i) => [uuid("spec", pick(i)), "running"],
    index: "tasks_spec_id_status_idx",
  },
  {
    name: "a run's artifacts",
    sql: "SELECT id, type, path, created_at FROM artifacts WHERE agent_run_id = $1 ORDER BY created_at",
    params: (i) => [uuid("run", pick(i))],
    index: "artifacts_agent_run_id_created_at_idx",
  },
  {
    name: "a team's audit log, newest first",
    sql: "SELECT id, action, details, timestamp FROM audit_log WHERE team_id = $1 ORDER BY timestamp DESC LIMIT 50",
    params: (i) => [uuid("team", (pick(i) % TEAMS) + 1)],
    index: "audit_log_team_id_timestamp_idx",
  },
  {
    name: "an API key by hash",
    sql: "SELECT id, team_id, expires_at, revoked_at FROM api_keys WHERE key_hash = $1",
    params: (i) => [keyHash(pick(i) * 50)],
    index: "api_keys_key_hash_key",
  },
  {
    name: "a team's active keys",
    sql: "SELECT id, name, prefix, expires_at FROM api_keys WHERE team_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    params: (i) => [uuid("team", (pick(i) % TEAMS) + 1)],
    index: "api_keys_team_id_active_idx",
  },
];

const WARMUP = PICK.length;
const TIMED_WITH = 25;
const TIMED_WITHOUT = 5;

type Plan = { "Node Type": string; "Index Name"?: string; Plans?: Plan[] };
const planNodes = (plan: Plan): Plan[] => [plan, ...(plan.Plans ?? []).flatMap(planNodes)];

async function explain(sql: postgres.Sql, read: HotRead) {
  const [row] = await sql.unsafe(`EXPLAIN (FORMAT JSON) ${read.sql}`, read.params(0));
  const plan = ((row?.["QUERY PLAN"] ?? []) as { Plan: Plan }[])[0]?.Plan;
  if (!plan) throw new Error(`no plan for ${read.name}`);
  const nodes = planNodes(plan);
  return {
    indexes: [...new Set(nodes.flatMap((n) => (n["Index Name"] ? [n["Index Name"]] : [])))],
    scans: [...new Set(nodes.map((n) => n["Node Type"]).filter((t) => t.includes("Scan")))],
  };
}

async function timeRead(sql: postgres.Sql, read: HotRead, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { ms: took } = await timed(() => sql.unsafe(read.sql, read.params(i), { prepare: true }));
    samples.push(took);
  }
  return samples;
}

export const hotReads: Measurement = {
  id: "hot-reads",
  title: "hot reads at 1M rows, with and without secondary indexes",
  async measure({ log }) {
    const server = await startTestServer();
    onCleanup("hot reads' test server", () => server.stop());
    const connect = (db: string) => {
      const sql = postgres(databaseUrl(server.adminUrl, db), { max: 1, onnotice: () => {} });
      onCleanup(`connection to ${db}`, () => sql.end());
      return sql;
    };
    const admin = connect("postgres");
    // Fewer checkpoints while writing ~1 GB; this server is deleted afterwards.
    await admin.unsafe("ALTER SYSTEM SET max_wal_size = '8GB'");
    await admin.unsafe("SELECT pg_reload_conf()");
    await admin.unsafe("CREATE DATABASE bench_hot");
    await migrate({ url: databaseUrl(server.adminUrl, "bench_hot") });
    let hot = connect("bench_hot");

    // The secondary indexes: every non-unique index of the schema (not a primary key, not a
    // unique constraint or index). Dropped before the load, rebuilt from their own definitions.
    const secondary = await hot<{ name: string; def: string }[]>`
      SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND NOT i.indisunique AND NOT i.indisprimary
      ORDER BY c.relname`;
    const kept = await hot<{ name: string }[]>`
      SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND (i.indisunique OR i.indisprimary) ORDER BY c.relname`;
    for (const index of secondary) await hot.unsafe(`DROP INDEX ${index.name}`);

    const loading = performance.now();
    const loader = () => {
      const sql = postgres(databaseUrl(server.adminUrl, "bench_hot"), {
        max: 1,
        onnotice: () => {},
      });
      return sql;
    };
    const load = async (statements: string[]) => {
      const sql = loader();
      try {
        await sql.unsafe("SET session_replication_role = replica");
        for (const statement of statements) await sql.unsafe(statement);
      } finally {
        await sql.end();
      }
    };
    await load(SMALL);
    await Promise.all(BIG_STREAMS.map(load));
    const loaded = performance.now();
    log(`loaded in ${ms(loaded - loading)}; checking the rules the triggers guard`);

    // Every foreign key, checked set-wise (MATCH SIMPLE: rows with a NULL column are exempt).
    const fks = await hot<
      { name: string; child: string; parent: string; cols: string[]; refcols: string[] }[]
    >`
      SELECT c.conname AS name, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
        ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS cols,
        ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS refcols
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = 'public' ORDER BY c.conname`;
    const checks = [
      ...fks.map((fk) => ({
        what: fk.name,
        sql: `SELECT count(*)::int AS n FROM ${fk.child} c
              WHERE ${fk.cols.map((col) => `c."${col}" IS NOT NULL`).join(" AND ")}
              AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p
                WHERE ${fk.cols.map((col, i) => `p."${fk.refcols[i]}" = c."${col}"`).join(" AND ")})`,
      })),
      ...TRIGGER_RULES.map((sql, i) => ({ what: `trigger rule ${i + 1}`, sql })),
    ];
    const broken: string[] = [];
    await Promise.all(
      [0, 1].map(async (worker) => {
        const sql = loader();
        try {
          for (const check of checks.filter((_, i) => i % 2 === worker)) {
            const [row] = await sql.unsafe(check.sql);
            if (row?.n !== 0) broken.push(`${check.what}: ${row?.n} rows`);
          }
        } finally {
          await sql.end();
        }
      }),
    );
    if (broken.length) throw new Error(`generated data breaks ${broken.join(", ")}`);
    await hot.unsafe("ANALYZE");
    const checked = performance.now();

    // The copy without secondary indexes is taken now, before they are built: the same end
    // state as copying and then dropping them, without building them twice. FILE_COPY copies
    // the files (seconds) instead of writing ~1 GB through the WAL.
    await hot.end(); // a template must have no other sessions
    await admin.unsafe("CREATE DATABASE bench_hot_bare TEMPLATE bench_hot STRATEGY FILE_COPY");
    hot = connect("bench_hot");
    const copied = performance.now();
    await Promise.all(
      [0, 1].map(async (worker) => {
        const sql = loader();
        try {
          await sql.unsafe("SET maintenance_work_mem = '256MB'");
          for (const index of secondary.filter((_, i) => i % 2 === worker)) {
            await sql.unsafe(index.def);
          }
        } finally {
          await sql.end();
        }
      }),
    );
    await hot.unsafe("ANALYZE");
    const indexed = performance.now();
    log(
      `checked ${checks.length} rules in ${ms(checked - loaded)}, copy ${ms(copied - checked)}, indexes ${ms(indexed - copied)}`,
    );
    const bare = connect("bench_hot_bare");

    const sizes = await hot<{ name: string; rows: number; size: string }[]>`
      SELECT c.relname AS name, c.reltuples::bigint::int AS rows,
        pg_size_pretty(pg_total_relation_size(c.oid)) AS size
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.reltuples DESC, c.relname`;

    const rows: Row[] = [];
    const plans: string[][] = [];
    for (const read of HOT_READS) {
      const [planWith, planWithout] = [await explain(hot, read), await explain(bare, read)];
      await timeRead(hot, read, WARMUP);
      await timeRead(bare, read, WARMUP);
      const withIndex = await timeRead(hot, read, TIMED_WITH);
      const without = await timeRead(bare, read, TIMED_WITHOUT);
      const uses = planWith.indexes.includes(read.index);
      const isKept = kept.some((k) => k.name === read.index);
      log(
        `${read.name}: ${ms(median(withIndex))} vs ${ms(median(without))} (${planWith.indexes.join(", ")})`,
      );
      rows.push({
        measurement: `hot read: ${read.name}${isKept ? " (unique index, in both)" : ""}`,
        value: ms(median(withIndex)),
        baseline: `without secondary indexes: ${ms(median(without))}`,
        ratio: ratio(median(withIndex), median(without)),
        budget: `plan uses ${read.index}`,
        pass: uses,
      });
      plans.push([
        read.name,
        planWith.indexes.join(", ") || planWith.scans.join(", "),
        planWithout.indexes.join(", ") || planWithout.scans.join(", "),
        spread(withIndex),
        spread(without),
      ]);
    }

    return {
      rows,
      sections: [
        `### Hot reads at 1 million rows

A throwaway server (fsync off, default shared_buffers) holds the schema migrated by our
migrator and generated data: ${sizes
          .filter((s) => s.rows >= 1000)
          .map((s) => `${s.name} ${s.rows.toLocaleString("en")} rows (${s.size})`)
          .join(", ")}. Loaded in ${ms(loaded - loading)} with the secondary indexes absent and the
triggers off for the loading sessions; then ${checks.length} set-wise checks (every foreign key and
the trigger rules) found nothing, in ${ms(checked - loaded)}; indexes built in ${ms(indexed - copied)}.
The comparison database is a copy (CREATE DATABASE … TEMPLATE) without the non-unique secondary
indexes.

Dropped in the copy (${secondary.length}): ${secondary.map((s) => `\`${s.name}\``).join(", ")}.

Kept in both (primary keys and unique constraints, ${kept.length}): ${kept.map((k) => `\`${k.name}\``).join(", ")}.

Each read is a prepared statement timed from the client (round trip included), cycling through
${PICK.length} teams/specs/runs/keys after one warm-up pass: median of ${TIMED_WITH} with the indexes,
${TIMED_WITHOUT} without. The plans are \`EXPLAIN (FORMAT JSON)\` of the first parameters.

${table(["hot read", "plan: indexes (with)", "plan (without)", "with (n, min–max)", "without (n, min–max)"], plans)}`,
      ],
    };
  },
};
