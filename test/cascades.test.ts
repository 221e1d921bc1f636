// What deleting a parent does: the ON DELETE of each foreign key, and the trigger-held rules
// that interact with them (audit entries keep their row, tasks keep their spec).

import { beforeEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../src/testing/index.ts";
import { HASH, id } from "./fixtures.ts";
import { expectRejected } from "./helpers/violations.ts";

const database = useTestDatabase();
const q = (text: string) => database.sql.unsafe(text);
const count = async (table: string, where = "true") =>
  (await q(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`))[0]?.n as number;

const [USER, AUTHOR, TEAM, SPEC, RUN, TASK_A, TASK_B] = [1, 2, 10, 20, 30, 40, 41].map(id);

beforeEach(async () => {
  await q(`TRUNCATE users, teams CASCADE`);
  await q(`
    INSERT INTO users (id, email, name) VALUES ('${USER}', 'u@example.com', 'U'), ('${AUTHOR}', 'a@example.com', 'A');
    INSERT INTO teams (id, name, slug) VALUES ('${TEAM}', 'T', 't');
    INSERT INTO team_members (user_id, team_id) VALUES ('${USER}', '${TEAM}'), ('${AUTHOR}', '${TEAM}');
    INSERT INTO specs (id, team_id, title, created_by) VALUES ('${SPEC}', '${TEAM}', 'S', '${AUTHOR}');
    INSERT INTO spec_versions (spec_id, version_number, content, actor_id, actor_type)
      VALUES ('${SPEC}', 1, '{}', '${AUTHOR}', 'user');
    INSERT INTO agent_runs (id, spec_id, agent_role, environment_id, model, status, started_at, completed_at)
      VALUES ('${RUN}', '${SPEC}', 'specialist', gen_random_uuid(), 'm', 'completed', now(), now());
    INSERT INTO tasks (id, spec_id, agent_run_id, title, status)
      VALUES ('${TASK_A}', '${SPEC}', '${RUN}', 'A', 'completed');
    INSERT INTO tasks (id, spec_id, title, depends_on) VALUES ('${TASK_B}', '${SPEC}', 'B', ARRAY['${TASK_A}']::uuid[]);
    INSERT INTO artifacts (agent_run_id, type, path) VALUES ('${RUN}', 'log', 'run.log');
    INSERT INTO audit_log (team_id, agent_run_id, action) VALUES ('${TEAM}', '${RUN}', 'run.completed');
    INSERT INTO api_keys (team_id, created_by, name, prefix, key_hash)
      VALUES ('${TEAM}', '${AUTHOR}', 'k', 'kata_x', '${HASH(1)}');
  `).simple();
});

describe("deleting", () => {
  it("a team deletes everything that belongs to it, and no user", async () => {
    await q(`DELETE FROM teams WHERE id = '${TEAM}'`);
    for (const table of [
      "team_members",
      "specs",
      "spec_versions",
      "agent_runs",
      "tasks",
      "artifacts",
      "audit_log",
      "api_keys",
    ]) {
      expect(await count(table), table).toBe(0);
    }
    expect(await count("users")).toBe(2);
  });

  it("a spec deletes its versions, runs, tasks (dependent ones too) and artifacts", async () => {
    await q(`DELETE FROM specs WHERE id = '${SPEC}'`);
    for (const table of ["spec_versions", "agent_runs", "tasks", "artifacts"]) {
      expect(await count(table), table).toBe(0);
    }
    // The audit entry stays, without its run.
    expect(await count("audit_log", "agent_run_id IS NULL")).toBe(1);
  });

  it("a run deletes its artifacts and frees its finished tasks; audit entries keep their row", async () => {
    await q(`DELETE FROM agent_runs WHERE id = '${RUN}'`);
    expect(await count("artifacts")).toBe(0);
    expect(
      await count("tasks", `id = '${TASK_A}' AND agent_run_id IS NULL AND spec_id = '${SPEC}'`),
    ).toBe(1);
    expect(await count("audit_log", "agent_run_id IS NULL AND action = 'run.completed'")).toBe(1);
  });

  it("a run that still has a running task is refused", async () => {
    await q(`UPDATE tasks SET status = 'running' WHERE id = '${TASK_A}'`);
    await expectRejected(
      q(`DELETE FROM agent_runs WHERE id = '${RUN}'`),
      "23514",
      "tasks_agent_run_id_check",
    );
  });

  it("a user deletes their memberships", async () => {
    await q(`DELETE FROM users WHERE id = '${USER}'`);
    expect(await count("team_members", `user_id = '${USER}'`)).toBe(0);
  });

  // ON DELETE RESTRICT reports SQLSTATE 23001 (restrict_violation), not 23503.
  it("a user who authored specs is refused", async () => {
    await q(`DELETE FROM api_keys`);
    await expectRejected(
      q(`DELETE FROM users WHERE id = '${AUTHOR}'`),
      "23001",
      "specs_created_by_fkey",
    );
  });

  it("a user who issued API keys is refused, and deletable once both are gone", async () => {
    await q(`DELETE FROM specs`);
    await expectRejected(
      q(`DELETE FROM users WHERE id = '${AUTHOR}'`),
      "23001",
      "api_keys_created_by_fkey",
    );
    await q(`DELETE FROM api_keys`);
    await q(`DELETE FROM users WHERE id = '${AUTHOR}'`);
    expect(await count("users", `id = '${AUTHOR}'`)).toBe(0);
  });

  it("a task nothing depends on, but not one another task depends on", async () => {
    await expectRejected(
      q(`DELETE FROM tasks WHERE id = '${TASK_A}'`),
      "23503",
      "tasks_depends_on_fkey",
    );
    await q(`DELETE FROM tasks WHERE id = '${TASK_B}'`);
    await q(`DELETE FROM tasks WHERE id = '${TASK_A}'`);
    expect(await count("tasks")).toBe(0);
  });
});
