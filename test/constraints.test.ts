// Every invariant of the domain contract, broken once, is rejected by PostgreSQL itself with
// the expected SQLSTATE and constraint name; every valid value is admitted.

import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../src/testing/index.ts";
import { HASH, id } from "./fixtures.ts";
import { expectRejected } from "./helpers/violations.ts";

const database = useTestDatabase();
const q = (text: string) => database.sql.unsafe(text);

const CHECK = "23514";
const UNIQUE = "23505";
const FK = "23503";
const NOT_NULL = "23502";
const BAD_ENUM = "22P02";
const RESTRICT = "23001";

const USER = id(1);
const TEAM = id(10);
const SPEC = id(20);
const OTHER_SPEC = id(21);
const RUN = id(30);
const OTHER_RUN = id(31);
const TASK_A = id(40);
const TASK_B = id(41);
const OTHER_TASK = id(42);

beforeAll(async () => {
  await q(`
    INSERT INTO users (id, email, name) VALUES ('${USER}', 'Ada@example.com', 'Ada');
    INSERT INTO teams (id, name, slug) VALUES ('${TEAM}', 'Core', 'core-platform');
    INSERT INTO team_members (user_id, team_id, role) VALUES ('${USER}', '${TEAM}', 'admin');
    INSERT INTO specs (id, team_id, title, created_by) VALUES
      ('${SPEC}', '${TEAM}', 'Spec', '${USER}'), ('${OTHER_SPEC}', '${TEAM}', 'Other', '${USER}');
    INSERT INTO agent_runs (id, spec_id, agent_role, environment_id, model, status, started_at)
      VALUES ('${RUN}', '${SPEC}', 'coordinator', gen_random_uuid(), 'model-x', 'running', now()),
             ('${OTHER_RUN}', '${OTHER_SPEC}', 'verifier', gen_random_uuid(), 'model-x', 'queued', NULL);
    INSERT INTO tasks (id, spec_id, title) VALUES
      ('${TASK_A}', '${SPEC}', 'A'), ('${OTHER_TASK}', '${OTHER_SPEC}', 'Other');
    INSERT INTO tasks (id, spec_id, title, depends_on) VALUES ('${TASK_B}', '${SPEC}', 'B', ARRAY['${TASK_A}']::uuid[]);
  `).simple();
});

describe("users", () => {
  it("rejects an address that is not an e-mail", async () => {
    for (const email of ["no-at-sign", "a b@example.com", "@example.com", "a@", "a@b@c"]) {
      await expectRejected(
        q(`INSERT INTO users (email, name) VALUES ('${email}', 'X')`),
        CHECK,
        "users_email_check",
      );
    }
  });
  it("rejects an e-mail that differs only in letter case", () =>
    expectRejected(
      q(`INSERT INTO users (email, name) VALUES ('ada@EXAMPLE.com', 'Ada 2')`),
      UNIQUE,
      "users_email_key",
    ));
  it("rejects a blank or missing name", async () => {
    await expectRejected(
      q(`INSERT INTO users (email, name) VALUES ('b@example.com', '  ')`),
      CHECK,
      "users_name_check",
    );
    await expectRejected(
      q(`INSERT INTO users (email, name) VALUES ('b@example.com', NULL)`),
      NOT_NULL,
    );
  });
});

describe("teams and members", () => {
  it("admits slugs of the contract's pattern and rejects others", async () => {
    await q(`INSERT INTO teams (name, slug) VALUES ('A', 'a'), ('B', 'b2-c3-d4')`);
    for (const slug of ["Core", "a_b", "-a", "a-", "a--b", "a b", ""]) {
      await expectRejected(
        q(`INSERT INTO teams (name, slug) VALUES ('X', '${slug}')`),
        CHECK,
        "teams_slug_check",
      );
    }
  });
  it("rejects a taken slug and a blank name", async () => {
    await expectRejected(
      q(`INSERT INTO teams (name, slug) VALUES ('X', 'core-platform')`),
      UNIQUE,
      "teams_slug_key",
    );
    await expectRejected(
      q(`INSERT INTO teams (name, slug) VALUES ('', 'x')`),
      CHECK,
      "teams_name_check",
    );
  });
  it("admits every team role and rejects others", async () => {
    const team = id(11);
    await q(`INSERT INTO teams (id, name, slug) VALUES ('${team}', 'Roles', 'roles')`);
    for (const [n, role] of ["admin", "member", "viewer"].entries()) {
      const user = id(100 + n);
      await q(`INSERT INTO users (id, email, name) VALUES ('${user}', 'r${n}@example.com', 'R')`);
      await q(`INSERT INTO team_members VALUES ('${user}', '${team}', '${role}')`);
    }
    await expectRejected(
      q(`INSERT INTO team_members VALUES ('${USER}', '${team}', 'owner')`),
      BAD_ENUM,
    );
  });
  it("rejects a second membership and an unknown user", async () => {
    await expectRejected(
      q(`INSERT INTO team_members (user_id, team_id) VALUES ('${USER}', '${TEAM}')`),
      UNIQUE,
      "team_members_pkey",
    );
    await expectRejected(
      q(`INSERT INTO team_members (user_id, team_id) VALUES ('${id(999)}', '${TEAM}')`),
      FK,
      "team_members_user_id_fkey",
    );
  });
});

describe("specs", () => {
  const insert = (columns: string, values: string) =>
    q(
      `INSERT INTO specs (team_id, created_by, ${columns}) VALUES ('${TEAM}', '${USER}', ${values})`,
    );
  it("admits every spec status and rejects others", async () => {
    for (const status of ["draft", "active", "paused", "completed", "archived"]) {
      await insert("title, status", `'S', '${status}'`);
    }
    await expectRejected(insert("title, status", `'S', 'done'`), BAD_ENUM);
  });
  it("rejects a blank title and content that is not an object", async () => {
    await expectRejected(insert("title", `' '`), CHECK, "specs_title_check");
    for (const content of [`'[]'`, `'"text"'`, `'1'`, `'null'`]) {
      await expectRejected(
        insert("title, content", `'S', ${content}`),
        CHECK,
        "specs_content_check",
      );
    }
  });
  it("rejects updated_at before created_at", () =>
    expectRejected(
      insert("title, created_at, updated_at", `'S', now(), now() - interval '1 s'`),
      CHECK,
      "specs_updated_at_check",
    ));
  it("rejects an unknown team or author", async () => {
    await expectRejected(
      q(`INSERT INTO specs (team_id, created_by, title) VALUES ('${id(998)}', '${USER}', 'S')`),
      FK,
      "specs_team_id_fkey",
    );
    await expectRejected(
      q(`INSERT INTO specs (team_id, created_by, title) VALUES ('${TEAM}', '${id(998)}', 'S')`),
      FK,
      "specs_created_by_fkey",
    );
  });
  it("keeps updated_at current on raw SQL updates", async () => {
    const spec = id(22);
    await insert(
      "id, title, created_at, updated_at",
      `'${spec}', 'Old', now() - interval '1 day', now() - interval '1 day'`,
    );
    const [row] = await q(`UPDATE specs SET title = 'New' WHERE id = '${spec}'
      RETURNING updated_at > now() - interval '1 minute' AS fresh`);
    expect(row?.fresh).toBe(true);
    // Even an update that tries to set it back in time gets the database's time.
    const [again] = await q(`UPDATE specs SET updated_at = '2000-01-01' WHERE id = '${spec}'
      RETURNING updated_at > now() - interval '1 minute' AS fresh`);
    expect(again?.fresh).toBe(true);
  });
});

describe("spec versions", () => {
  const insert = (values: string) =>
    q(`INSERT INTO spec_versions (spec_id, version_number, content, actor_id, actor_type, change_summary)
       VALUES ${values}`);
  it("admits both actor types and an empty change summary", async () => {
    await insert(
      `('${SPEC}', 1, '{}', '${USER}', 'user', ''), ('${SPEC}', 2, '{"intent":"x"}', '${RUN}', 'agent', 'ran')`,
    );
  });
  it("rejects version numbers below 1 and a repeated number", async () => {
    await expectRejected(
      insert(`('${SPEC}', 0, '{}', '${USER}', 'user', '')`),
      CHECK,
      "spec_versions_version_number_check",
    );
    await expectRejected(
      insert(`('${SPEC}', 1, '{}', '${USER}', 'user', '')`),
      UNIQUE,
      "spec_versions_spec_id_version_number_key",
    );
  });
  it("rejects content that is not an object and an unknown actor type", async () => {
    await expectRejected(
      insert(`('${SPEC}', 9, '[]', '${USER}', 'user', '')`),
      CHECK,
      "spec_versions_content_check",
    );
    await expectRejected(insert(`('${SPEC}', 9, '{}', '${USER}', 'bot', '')`), BAD_ENUM);
  });
  it("rejects an actor that is not a user, or not a run of the same spec", async () => {
    await expectRejected(
      insert(`('${SPEC}', 9, '{}', '${RUN}', 'user', '')`),
      FK,
      "spec_versions_actor_id_fkey",
    );
    await expectRejected(
      insert(`('${SPEC}', 9, '{}', '${OTHER_RUN}', 'agent', '')`),
      FK,
      "spec_versions_actor_id_fkey",
    );
  });
  it("is append-only", () =>
    expectRejected(
      q(`UPDATE spec_versions SET change_summary = 'rewritten' WHERE spec_id = '${SPEC}'`),
      RESTRICT,
      "spec_versions_immutable",
    ));
});

describe("agent runs", () => {
  const insert = (status: string, started: string, completed: string, role = "specialist") =>
    q(`INSERT INTO agent_runs (spec_id, agent_role, environment_id, model, status, started_at, completed_at)
       VALUES ('${SPEC}', '${role}', gen_random_uuid(), 'm', '${status}', ${started}, ${completed})`);
  it("admits every valid status/timestamp combination and every role", async () => {
    await insert("queued", "NULL", "NULL", "coordinator");
    await insert("running", "now()", "NULL", "specialist");
    await insert("completed", "now()", "now()", "verifier");
    await insert("failed", "now()", "now() + interval '1 s'");
    await insert("cancelled", "NULL", "NULL");
    await insert("cancelled", "NULL", "now()");
    await insert("cancelled", "now()", "now()");
  });
  it("rejects an unknown role or status", async () => {
    await expectRejected(insert("queued", "NULL", "NULL", "planner"), BAD_ENUM);
    await expectRejected(insert("paused", "NULL", "NULL"), BAD_ENUM);
  });
  it("requires started_at once running, completed or failed", async () => {
    for (const [status, completed] of [
      ["running", "NULL"],
      ["completed", "now()"],
      ["failed", "now()"],
    ] as const) {
      await expectRejected(insert(status, "NULL", completed), CHECK, "agent_runs_started_at_check");
    }
  });
  it("requires completed_at once completed or failed", async () => {
    for (const status of ["completed", "failed"]) {
      await expectRejected(insert(status, "now()", "NULL"), CHECK, "agent_runs_completed_at_check");
    }
  });
  it("rejects completed_at before started_at", () =>
    expectRejected(
      insert("completed", "now()", "now() - interval '1 s'"),
      CHECK,
      "agent_runs_completed_after_started_check",
    ));
  it("rejects a queued run that started and a running run that ended", async () => {
    await expectRejected(insert("queued", "now()", "NULL"), CHECK, "agent_runs_queued_check");
    await expectRejected(insert("running", "now()", "now()"), CHECK, "agent_runs_running_check");
  });
  it("rejects a blank model", () =>
    expectRejected(
      q(`INSERT INTO agent_runs (spec_id, agent_role, environment_id, model)
         VALUES ('${SPEC}', 'verifier', gen_random_uuid(), '')`),
      CHECK,
      "agent_runs_model_check",
    ));
});

describe("tasks", () => {
  const insert = (columns: string, values: string, spec = SPEC) =>
    q(`INSERT INTO tasks (spec_id, title, ${columns}) VALUES ('${spec}', 'T', ${values})`);
  it("admits every task status (with a run where one is needed) and a NULL result", async () => {
    for (const status of ["pending", "assigned", "running", "completed", "failed", "skipped"]) {
      await insert("status, agent_run_id, result", `'${status}', '${RUN}', NULL`);
    }
    await insert("status", `'pending'`);
    await expectRejected(insert("status", `'done'`), BAD_ENUM);
  });
  it("rejects a blank title and a result that is not an object", async () => {
    await expectRejected(
      q(`INSERT INTO tasks (spec_id, title) VALUES ('${SPEC}', '')`),
      CHECK,
      "tasks_title_check",
    );
    await expectRejected(insert("result", `'[1]'`), CHECK, "tasks_result_check");
  });
  it("rejects an assigned or running task without a run", async () => {
    for (const status of ["assigned", "running"]) {
      await expectRejected(insert("status", `'${status}'`), CHECK, "tasks_agent_run_id_check");
    }
  });
  it("rejects a run of another spec", () =>
    expectRejected(insert("agent_run_id", `'${OTHER_RUN}'`), FK, "tasks_agent_run_id_fkey"));

  it("rejects depending on itself, twice on one task, on NULL or in two dimensions", async () => {
    const self = id(43);
    await expectRejected(
      insert("id, depends_on", `'${self}', ARRAY['${self}']::uuid[]`),
      CHECK,
      "tasks_depends_on_self_check",
    );
    await expectRejected(
      insert("depends_on", `ARRAY['${TASK_A}', '${TASK_A}']::uuid[]`),
      CHECK,
      "tasks_depends_on_unique_check",
    );
    await expectRejected(
      insert("depends_on", `ARRAY['${TASK_A}', NULL]::uuid[]`),
      CHECK,
      "tasks_depends_on_shape_check",
    );
    await expectRejected(
      insert("depends_on", `ARRAY[ARRAY['${TASK_A}'], ARRAY['${TASK_B}']]::uuid[]`),
      CHECK,
      "tasks_depends_on_shape_check",
    );
  });
  it("rejects depending on an unknown task or a task of another spec", async () => {
    await expectRejected(
      insert("depends_on", `ARRAY['${id(997)}']::uuid[]`),
      FK,
      "tasks_depends_on_fkey",
    );
    await expectRejected(
      insert("depends_on", `ARRAY['${OTHER_TASK}']::uuid[]`),
      FK,
      "tasks_depends_on_fkey",
    );
  });
  it("rejects a dependency cycle", async () => {
    // B depends on A already; A depending on B closes the cycle.
    await expectRejected(
      q(`UPDATE tasks SET depends_on = ARRAY['${TASK_B}']::uuid[] WHERE id = '${TASK_A}'`),
      CHECK,
      "tasks_depends_on_acyclic_check",
    );
  });
  it("refuses to delete, re-key or move a task others depend on", async () => {
    await expectRejected(
      q(`DELETE FROM tasks WHERE id = '${TASK_A}'`),
      FK,
      "tasks_depends_on_fkey",
    );
    await expectRejected(
      q(`UPDATE tasks SET id = gen_random_uuid() WHERE id = '${TASK_A}'`),
      FK,
      "tasks_depends_on_fkey",
    );
    await expectRejected(
      q(`UPDATE tasks SET spec_id = '${OTHER_SPEC}' WHERE id = '${TASK_A}'`),
      FK,
      "tasks_depends_on_fkey",
    );
  });
  it("admits tasks depending on each other's ids within one statement, and deferred", async () => {
    const [c, d] = [id(44), id(45)];
    await insert("id, depends_on", `'${c}', ARRAY['${d}']::uuid[]), ('${SPEC}', 'T', '${d}', '{}'`);
    const [e, f] = [id(46), id(47)];
    await database.sql.begin(async (tx) => {
      await tx.unsafe("SET CONSTRAINTS tasks_depends_on_fkey DEFERRED");
      await tx.unsafe(`INSERT INTO tasks (id, spec_id, title, depends_on)
        VALUES ('${e}', '${SPEC}', 'E', ARRAY['${f}']::uuid[])`);
      await tx.unsafe(`INSERT INTO tasks (id, spec_id, title) VALUES ('${f}', '${SPEC}', 'F')`);
    });
    const [row] = await q(`SELECT count(*)::int AS n FROM tasks WHERE id IN ('${e}', '${f}')`);
    expect(row?.n).toBe(2);
  });
  it("keeps updated_at current on raw SQL updates", async () => {
    const task = id(48);
    await insert(
      "id, created_at, updated_at",
      `'${task}', now() - interval '1 day', now() - interval '1 day'`,
    );
    const [row] = await q(`UPDATE tasks SET title = 'New' WHERE id = '${task}'
      RETURNING updated_at > now() - interval '1 minute' AS fresh`);
    expect(row?.fresh).toBe(true);
  });
});

describe("artifacts", () => {
  const insert = (type: string, path: string, metadata: string, run = RUN) =>
    q(`INSERT INTO artifacts (agent_run_id, type, path, metadata)
       VALUES ('${run}', '${type}', '${path}', '${metadata}')`);
  it("admits every artifact type and rejects others", async () => {
    for (const type of ["screenshot", "video", "test_report", "diff", "log", "file"]) {
      await insert(type, `out/${type}`, "{}");
    }
    await expectRejected(insert("image", "x", "{}"), BAD_ENUM);
  });
  it("rejects a blank path, non-object metadata and an unknown run", async () => {
    await expectRejected(insert("log", " ", "{}"), CHECK, "artifacts_path_check");
    await expectRejected(insert("log", "x", "[]"), CHECK, "artifacts_metadata_check");
    await expectRejected(insert("log", "x", "{}", id(996)), FK, "artifacts_agent_run_id_fkey");
  });
});

describe("audit log", () => {
  const entry = id(60);
  it("admits an entry with and without a run", async () => {
    await q(`INSERT INTO audit_log (id, team_id, agent_run_id, action, details)
             VALUES ('${entry}', '${TEAM}', '${RUN}', 'run.started', '{"by":"test"}'),
                    (gen_random_uuid(), '${TEAM}', NULL, 'spec.created', '{}')`);
  });
  it("rejects a blank action and details that are not an object", async () => {
    await expectRejected(
      q(`INSERT INTO audit_log (team_id, action) VALUES ('${TEAM}', '')`),
      CHECK,
      "audit_log_action_check",
    );
    await expectRejected(
      q(`INSERT INTO audit_log (team_id, action, details) VALUES ('${TEAM}', 'x', '"s"')`),
      CHECK,
      "audit_log_details_check",
    );
  });
  it("refuses every update, including clearing agent_run_id by hand", async () => {
    await expectRejected(
      q(`UPDATE audit_log SET action = 'edited' WHERE id = '${entry}'`),
      RESTRICT,
      "audit_log_immutable",
    );
    await expectRejected(
      q(`UPDATE audit_log SET agent_run_id = NULL WHERE id = '${entry}'`),
      RESTRICT,
      "audit_log_immutable",
    );
  });
});

describe("api keys", () => {
  const insert = (columns: string, values: string) =>
    q(`INSERT INTO api_keys (team_id, created_by, name, prefix, key_hash, ${columns})
       VALUES ('${TEAM}', '${USER}', 'ci', 'kata_abcd', ${values})`);
  it("admits a hashed key with optional timestamps", async () => {
    await insert("expires_at", `'${HASH(1)}', now() + interval '1 day'`);
    await insert("expires_at", `'${HASH(2)}', NULL`);
  });
  it("rejects a raw key or anything but a lowercase SHA-256 hex digest", async () => {
    for (const hash of ["kata_rawsecretkey", HASH(3).toUpperCase().replace("0", "A"), "abc"]) {
      await expectRejected(
        insert("expires_at", `'${hash}', NULL`),
        CHECK,
        "api_keys_key_hash_check",
      );
    }
  });
  it("rejects a hash already stored", () =>
    expectRejected(insert("expires_at", `'${HASH(1)}', NULL`), UNIQUE, "api_keys_key_hash_key"));
  it("rejects expiry, revocation or use before creation", async () => {
    for (const column of ["expires_at", "revoked_at", "last_used_at"]) {
      await expectRejected(
        insert(column, `'${HASH(4)}', now() - interval '1 s'`),
        CHECK,
        `api_keys_${column}_check`,
      );
    }
  });
  it("rejects a blank name or prefix", async () => {
    await expectRejected(
      q(`INSERT INTO api_keys (team_id, created_by, name, prefix, key_hash)
         VALUES ('${TEAM}', '${USER}', '', 'p', '${HASH(5)}')`),
      CHECK,
      "api_keys_name_check",
    );
    await expectRejected(
      q(`INSERT INTO api_keys (team_id, created_by, name, prefix, key_hash)
         VALUES ('${TEAM}', '${USER}', 'n', ' ', '${HASH(5)}')`),
      CHECK,
      "api_keys_prefix_check",
    );
  });
});
