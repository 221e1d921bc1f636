// The schema as PostgreSQL reports it, against the design (KAT-106) and the domain contract,
// written out by hand: tables, columns with types, nullability and defaults, every named
// constraint with its definition (keys, uniques, FKs and their ON DELETE, checks), indexes,
// enums with their values in contract order, and triggers. A change to the schema must change
// this file too — on purpose, in review.

import { describe, expect, it } from "vitest";
import * as catalog from "../src/catalog.ts";
import { useTestDatabase } from "../src/testing/index.ts";

const database = useTestDatabase();

const expectedEnums = {
  actor_type: ["user", "agent"],
  agent_role: ["coordinator", "specialist", "verifier"],
  agent_run_status: ["queued", "running", "completed", "failed", "cancelled"],
  artifact_type: ["screenshot", "video", "test_report", "diff", "log", "file"],
  spec_status: ["draft", "active", "paused", "completed", "archived"],
  task_status: ["pending", "assigned", "running", "completed", "failed", "skipped"],
  team_role: ["admin", "member", "viewer"],
};

const expectedColumns = {
  agent_runs: {
    id: "uuid not null default gen_random_uuid()",
    spec_id: "uuid not null",
    agent_role: "agent_role not null",
    environment_id: "uuid not null",
    model: "text not null",
    status: "agent_run_status not null default 'queued'::agent_run_status",
    started_at: "timestamp with time zone",
    completed_at: "timestamp with time zone",
    created_at: "timestamp with time zone not null default now()",
  },
  api_keys: {
    id: "uuid not null default gen_random_uuid()",
    team_id: "uuid not null",
    name: "text not null",
    key_hash: "text not null",
    prefix: "text not null",
    created_by: "uuid not null",
    created_at: "timestamp with time zone not null default now()",
    expires_at: "timestamp with time zone",
    revoked_at: "timestamp with time zone",
    last_used_at: "timestamp with time zone",
  },
  artifacts: {
    id: "uuid not null default gen_random_uuid()",
    agent_run_id: "uuid not null",
    type: "artifact_type not null",
    path: "text not null",
    metadata: "jsonb not null default '{}'::jsonb",
    created_at: "timestamp with time zone not null default now()",
  },
  audit_log: {
    id: "uuid not null default gen_random_uuid()",
    team_id: "uuid not null",
    agent_run_id: "uuid",
    action: "text not null",
    details: "jsonb not null default '{}'::jsonb",
    timestamp: "timestamp with time zone not null default now()",
  },
  spec_versions: {
    id: "uuid not null default gen_random_uuid()",
    spec_id: "uuid not null",
    version_number: "integer not null",
    content: "jsonb not null",
    actor_id: "uuid not null",
    actor_type: "actor_type not null",
    change_summary: "text not null default ''::text",
    created_at: "timestamp with time zone not null default now()",
  },
  specs: {
    id: "uuid not null default gen_random_uuid()",
    team_id: "uuid not null",
    title: "text not null",
    status: "spec_status not null default 'draft'::spec_status",
    content: "jsonb not null default '{}'::jsonb",
    created_by: "uuid not null",
    created_at: "timestamp with time zone not null default now()",
    updated_at: "timestamp with time zone not null default now()",
  },
  tasks: {
    id: "uuid not null default gen_random_uuid()",
    spec_id: "uuid not null",
    agent_run_id: "uuid",
    title: "text not null",
    status: "task_status not null default 'pending'::task_status",
    depends_on: "uuid[] not null default '{}'::uuid[]",
    result: "jsonb",
    created_at: "timestamp with time zone not null default now()",
    updated_at: "timestamp with time zone not null default now()",
  },
  team_members: {
    user_id: "uuid not null",
    team_id: "uuid not null",
    role: "team_role not null default 'member'::team_role",
    created_at: "timestamp with time zone not null default now()",
  },
  teams: {
    id: "uuid not null default gen_random_uuid()",
    name: "text not null",
    slug: "text not null",
    created_at: "timestamp with time zone not null default now()",
  },
  users: {
    id: "uuid not null default gen_random_uuid()",
    email: "text not null",
    name: "text not null",
    created_at: "timestamp with time zone not null default now()",
  },
};

const expectedConstraints = {
  agent_runs_completed_after_started_check: "agent_runs: CHECK ((completed_at >= started_at))",
  agent_runs_completed_at_check:
    "agent_runs: CHECK (((status <> ALL (ARRAY['completed'::agent_run_status, 'failed'::agent_run_status])) OR (completed_at IS NOT NULL)))",
  agent_runs_id_spec_id_key: "agent_runs: UNIQUE (id, spec_id)",
  agent_runs_model_check: "agent_runs: CHECK ((btrim(model) <> ''::text))",
  agent_runs_pkey: "agent_runs: PRIMARY KEY (id)",
  agent_runs_queued_check:
    "agent_runs: CHECK (((status <> 'queued'::agent_run_status) OR ((started_at IS NULL) AND (completed_at IS NULL))))",
  agent_runs_running_check:
    "agent_runs: CHECK (((status <> 'running'::agent_run_status) OR (completed_at IS NULL)))",
  agent_runs_spec_id_fkey:
    "agent_runs: FOREIGN KEY (spec_id) REFERENCES specs(id) ON DELETE CASCADE",
  agent_runs_started_at_check:
    "agent_runs: CHECK (((status <> ALL (ARRAY['running'::agent_run_status, 'completed'::agent_run_status, 'failed'::agent_run_status])) OR (started_at IS NOT NULL)))",
  api_keys_created_by_fkey:
    "api_keys: FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE RESTRICT",
  api_keys_expires_at_check: "api_keys: CHECK ((expires_at >= created_at))",
  api_keys_key_hash_check: "api_keys: CHECK ((key_hash ~ '^[0-9a-f]{64}$'::text))",
  api_keys_last_used_at_check: "api_keys: CHECK ((last_used_at >= created_at))",
  api_keys_name_check: "api_keys: CHECK ((btrim(name) <> ''::text))",
  api_keys_pkey: "api_keys: PRIMARY KEY (id)",
  api_keys_prefix_check: "api_keys: CHECK ((btrim(prefix) <> ''::text))",
  api_keys_revoked_at_check: "api_keys: CHECK ((revoked_at >= created_at))",
  api_keys_team_id_fkey: "api_keys: FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE",
  artifacts_agent_run_id_fkey:
    "artifacts: FOREIGN KEY (agent_run_id) REFERENCES agent_runs(id) ON DELETE CASCADE",
  artifacts_metadata_check: "artifacts: CHECK ((jsonb_typeof(metadata) = 'object'::text))",
  artifacts_path_check: "artifacts: CHECK ((btrim(path) <> ''::text))",
  artifacts_pkey: "artifacts: PRIMARY KEY (id)",
  audit_log_action_check: "audit_log: CHECK ((btrim(action) <> ''::text))",
  audit_log_agent_run_id_fkey:
    "audit_log: FOREIGN KEY (agent_run_id) REFERENCES agent_runs(id) ON DELETE SET NULL",
  audit_log_details_check: "audit_log: CHECK ((jsonb_typeof(details) = 'object'::text))",
  audit_log_pkey: "audit_log: PRIMARY KEY (id)",
  audit_log_team_id_fkey: "audit_log: FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE",
  spec_versions_content_check: "spec_versions: CHECK ((jsonb_typeof(content) = 'object'::text))",
  spec_versions_pkey: "spec_versions: PRIMARY KEY (id)",
  spec_versions_spec_id_fkey:
    "spec_versions: FOREIGN KEY (spec_id) REFERENCES specs(id) ON DELETE CASCADE",
  spec_versions_spec_id_version_number_key: "spec_versions: UNIQUE (spec_id, version_number)",
  spec_versions_version_number_check: "spec_versions: CHECK ((version_number > 0))",
  specs_content_check: "specs: CHECK ((jsonb_typeof(content) = 'object'::text))",
  specs_created_by_fkey: "specs: FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE RESTRICT",
  specs_pkey: "specs: PRIMARY KEY (id)",
  specs_team_id_fkey: "specs: FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE",
  specs_title_check: "specs: CHECK ((btrim(title) <> ''::text))",
  specs_updated_at_check: "specs: CHECK ((updated_at >= created_at))",
  tasks_agent_run_id_check:
    "tasks: CHECK (((status <> ALL (ARRAY['assigned'::task_status, 'running'::task_status])) OR (agent_run_id IS NOT NULL)))",
  tasks_agent_run_id_fkey:
    "tasks: FOREIGN KEY (agent_run_id, spec_id) REFERENCES agent_runs(id, spec_id) ON DELETE SET NULL (agent_run_id)",
  tasks_depends_on_self_check: "tasks: CHECK ((NOT (id = ANY (depends_on))))",
  tasks_depends_on_shape_check:
    "tasks: CHECK (((array_ndims(depends_on) IS NULL) OR ((array_ndims(depends_on) = 1) AND (array_position(depends_on, NULL::uuid) IS NULL))))",
  tasks_depends_on_unique_check: "tasks: CHECK (uuid_array_is_distinct(depends_on))",
  tasks_pkey: "tasks: PRIMARY KEY (id)",
  tasks_result_check: "tasks: CHECK ((jsonb_typeof(result) = 'object'::text))",
  tasks_spec_id_fkey: "tasks: FOREIGN KEY (spec_id) REFERENCES specs(id) ON DELETE CASCADE",
  tasks_title_check: "tasks: CHECK ((btrim(title) <> ''::text))",
  tasks_updated_at_check: "tasks: CHECK ((updated_at >= created_at))",
  team_members_pkey: "team_members: PRIMARY KEY (user_id, team_id)",
  team_members_team_id_fkey:
    "team_members: FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE",
  team_members_user_id_fkey:
    "team_members: FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
  teams_name_check: "teams: CHECK ((btrim(name) <> ''::text))",
  teams_pkey: "teams: PRIMARY KEY (id)",
  teams_slug_check: "teams: CHECK ((slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'::text))",
  users_email_check:
    "users: CHECK (((email ~ '^[^@[:space:]]+@[^@[:space:]]+$'::text) AND (length(email) <= 254)))",
  users_name_check: "users: CHECK ((btrim(name) <> ''::text))",
  users_pkey: "users: PRIMARY KEY (id)",
};

const expectedIndexes = {
  agent_runs_id_spec_id_key:
    "CREATE UNIQUE INDEX agent_runs_id_spec_id_key ON public.agent_runs USING btree (id, spec_id)",
  agent_runs_pkey: "CREATE UNIQUE INDEX agent_runs_pkey ON public.agent_runs USING btree (id)",
  agent_runs_spec_id_status_idx:
    "CREATE INDEX agent_runs_spec_id_status_idx ON public.agent_runs USING btree (spec_id, status)",
  api_keys_created_by_idx:
    "CREATE INDEX api_keys_created_by_idx ON public.api_keys USING btree (created_by)",
  api_keys_key_hash_key:
    "CREATE UNIQUE INDEX api_keys_key_hash_key ON public.api_keys USING btree (key_hash)",
  api_keys_pkey: "CREATE UNIQUE INDEX api_keys_pkey ON public.api_keys USING btree (id)",
  api_keys_team_id_active_idx:
    "CREATE INDEX api_keys_team_id_active_idx ON public.api_keys USING btree (team_id, expires_at) WHERE (revoked_at IS NULL)",
  api_keys_team_id_idx:
    "CREATE INDEX api_keys_team_id_idx ON public.api_keys USING btree (team_id)",
  artifacts_agent_run_id_created_at_idx:
    "CREATE INDEX artifacts_agent_run_id_created_at_idx ON public.artifacts USING btree (agent_run_id, created_at)",
  artifacts_pkey: "CREATE UNIQUE INDEX artifacts_pkey ON public.artifacts USING btree (id)",
  audit_log_agent_run_id_idx:
    "CREATE INDEX audit_log_agent_run_id_idx ON public.audit_log USING btree (agent_run_id) WHERE (agent_run_id IS NOT NULL)",
  audit_log_pkey: "CREATE UNIQUE INDEX audit_log_pkey ON public.audit_log USING btree (id)",
  audit_log_team_id_timestamp_idx:
    'CREATE INDEX audit_log_team_id_timestamp_idx ON public.audit_log USING btree (team_id, "timestamp" DESC NULLS LAST)',
  spec_versions_pkey:
    "CREATE UNIQUE INDEX spec_versions_pkey ON public.spec_versions USING btree (id)",
  spec_versions_spec_id_version_number_key:
    "CREATE UNIQUE INDEX spec_versions_spec_id_version_number_key ON public.spec_versions USING btree (spec_id, version_number)",
  specs_created_by_idx:
    "CREATE INDEX specs_created_by_idx ON public.specs USING btree (created_by)",
  specs_pkey: "CREATE UNIQUE INDEX specs_pkey ON public.specs USING btree (id)",
  specs_team_id_updated_at_idx:
    "CREATE INDEX specs_team_id_updated_at_idx ON public.specs USING btree (team_id, updated_at DESC NULLS LAST)",
  tasks_agent_run_id_spec_id_idx:
    "CREATE INDEX tasks_agent_run_id_spec_id_idx ON public.tasks USING btree (agent_run_id, spec_id) WHERE (agent_run_id IS NOT NULL)",
  tasks_depends_on_idx: "CREATE INDEX tasks_depends_on_idx ON public.tasks USING gin (depends_on)",
  tasks_pkey: "CREATE UNIQUE INDEX tasks_pkey ON public.tasks USING btree (id)",
  tasks_spec_id_status_idx:
    "CREATE INDEX tasks_spec_id_status_idx ON public.tasks USING btree (spec_id, status)",
  team_members_pkey:
    "CREATE UNIQUE INDEX team_members_pkey ON public.team_members USING btree (user_id, team_id)",
  team_members_team_id_idx:
    "CREATE INDEX team_members_team_id_idx ON public.team_members USING btree (team_id)",
  teams_pkey: "CREATE UNIQUE INDEX teams_pkey ON public.teams USING btree (id)",
  teams_slug_key: "CREATE UNIQUE INDEX teams_slug_key ON public.teams USING btree (slug)",
  users_email_key: "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email))",
  users_pkey: "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)",
};

const expectedTriggers = {
  audit_log_immutable:
    "CREATE TRIGGER audit_log_immutable BEFORE UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update()",
  spec_versions_actor_id_fkey:
    "CREATE TRIGGER spec_versions_actor_id_fkey BEFORE INSERT ON public.spec_versions FOR EACH ROW EXECUTE FUNCTION spec_versions_check_actor()",
  spec_versions_immutable:
    "CREATE TRIGGER spec_versions_immutable BEFORE UPDATE ON public.spec_versions FOR EACH ROW EXECUTE FUNCTION refuse_update()",
  specs_set_updated_at:
    "CREATE TRIGGER specs_set_updated_at BEFORE UPDATE ON public.specs FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
  tasks_dependents_fkey:
    "CREATE CONSTRAINT TRIGGER tasks_dependents_fkey AFTER DELETE OR UPDATE OF id, spec_id ON public.tasks DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION tasks_check_dependents()",
  tasks_depends_on_fkey:
    "CREATE CONSTRAINT TRIGGER tasks_depends_on_fkey AFTER INSERT OR UPDATE OF depends_on, spec_id ON public.tasks DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION tasks_check_depends_on()",
  tasks_set_updated_at:
    "CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON public.tasks FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
};

describe("schema on the server", () => {
  it("has exactly the ten tables of the design", async () => {
    expect(Object.keys(await catalog.columns(database.sql)).sort()).toEqual([
      "agent_runs",
      "api_keys",
      "artifacts",
      "audit_log",
      "spec_versions",
      "specs",
      "tasks",
      "team_members",
      "teams",
      "users",
    ]);
  });

  it("has the contract's enums with their values in order", async () => {
    expect(await catalog.enums(database.sql)).toEqual(expectedEnums);
  });

  it("has every column with its type, nullability and default", async () => {
    expect(await catalog.columns(database.sql)).toEqual(expectedColumns);
  });

  it("has every key, unique, foreign key (with ON DELETE) and check, by name", async () => {
    expect(await catalog.constraints(database.sql)).toEqual(expectedConstraints);
  });

  it("has every index, by name and definition", async () => {
    expect(await catalog.indexes(database.sql)).toEqual(expectedIndexes);
  });

  it("has the triggers that hold the contract's other invariants", async () => {
    expect(await catalog.triggers(database.sql)).toEqual(expectedTriggers);
  });

  it("indexes the referencing columns of every foreign key", async () => {
    // A foreign key without an index on its referencing columns makes every parent DELETE scan
    // the child table. The leading index columns must start with the FK's columns.
    const unindexed = await database.sql<{ name: string }[]>`
      SELECT c.conname AS name
      FROM pg_constraint c
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        AND NOT EXISTS (
          SELECT 1 FROM pg_index i
          WHERE i.indrelid = c.conrelid
            AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
        )`;
    expect(unindexed.map((r) => r.name)).toEqual([]);
  });
});
