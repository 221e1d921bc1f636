import { sql } from "drizzle-orm";
import { check, index, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import {
  createdAt,
  foreignKeyOf,
  id,
  instant,
  jsonObject,
  jsonObjectCheck,
  nonBlank,
  updatedAt,
} from "./columns.ts";
import { agentRole, agentRunStatus, artifactType, taskStatus } from "./enums.ts";
import { specs } from "./specs.ts";

// Runs: agents working a spec, the tasks they take on, and what they produce.

export const agentRuns = pgTable(
  "agent_runs",
  {
    id: id(),
    // A run is work on one spec and has no meaning without it.
    specId: uuid().notNull(),
    agentRole: agentRole().notNull(),
    /** The external sandbox the agent ran in. Lives outside this database: no foreign key. */
    environmentId: uuid().notNull(),
    /** The model identifier, e.g. "claude-sonnet-4". */
    model: text().notNull(),
    status: agentRunStatus().notNull().default("queued"),
    startedAt: instant(),
    completedAt: instant(),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKeyOf("agent_runs_spec_id_fkey", t.specId, specs.id, "cascade"),
    nonBlank("agent_runs_model_check", t.model),
    // The contract: running, completed and failed runs have started.
    check(
      "agent_runs_started_at_check",
      sql`${t.status} NOT IN ('running', 'completed', 'failed') OR ${t.startedAt} IS NOT NULL`,
    ),
    // The contract: completed and failed runs have ended.
    check(
      "agent_runs_completed_at_check",
      sql`${t.status} NOT IN ('completed', 'failed') OR ${t.completedAt} IS NOT NULL`,
    ),
    // Our decision where the contract is silent: a queued run has neither started nor ended, and a
    // running one has not ended. A cancelled run may carry either (cancelled before or after start).
    check(
      "agent_runs_queued_check",
      sql`${t.status} <> 'queued' OR (${t.startedAt} IS NULL AND ${t.completedAt} IS NULL)`,
    ),
    check("agent_runs_running_check", sql`${t.status} <> 'running' OR ${t.completedAt} IS NULL`),
    check("agent_runs_completed_after_started_check", sql`${t.completedAt} >= ${t.startedAt}`),
    // "A spec's runs by status", and the spec_id FK.
    index("agent_runs_spec_id_status_idx").on(t.specId, t.status),
    // Target of tasks_agent_run_id_fkey, which also checks that a task's run works the task's spec.
    unique("agent_runs_id_spec_id_key").on(t.id, t.specId),
  ],
);

export const tasks = pgTable(
  "tasks",
  {
    id: id(),
    specId: uuid().notNull(),
    /**
     * The run working this task, if any. Its foreign key is written by hand in the triggers
     * migration because drizzle cannot express it: (agent_run_id, spec_id) → agent_runs (id,
     * spec_id) ON DELETE SET NULL (agent_run_id) — the run must work the same spec, and deleting
     * the run frees the task without touching spec_id.
     */
    agentRunId: uuid(),
    title: text().notNull(),
    status: taskStatus().notNull().default("pending"),
    /**
     * Ids of other tasks of the same spec that must finish first. No duplicates, no NULLs, no
     * self-reference (CHECKs); every id an existing task of the same spec, no cycles, and no
     * deleting a task others still depend on (the tasks_depends_on triggers).
     */
    dependsOn: uuid().array().notNull().default(sql`'{}'::uuid[]`),
    result: jsonObject(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKeyOf("tasks_spec_id_fkey", t.specId, specs.id, "cascade"),
    nonBlank("tasks_title_check", t.title),
    jsonObjectCheck("tasks_result_check", t.result),
    check("tasks_updated_at_check", sql`${t.updatedAt} >= ${t.createdAt}`),
    // Our decision: a task that is assigned or running is assigned to some run.
    check(
      "tasks_agent_run_id_check",
      sql`${t.status} NOT IN ('assigned', 'running') OR ${t.agentRunId} IS NOT NULL`,
    ),
    check("tasks_depends_on_self_check", sql`NOT (${t.id} = ANY (${t.dependsOn}))`),
    check(
      "tasks_depends_on_shape_check",
      sql`array_ndims(${t.dependsOn}) IS NULL OR (array_ndims(${t.dependsOn}) = 1 AND array_position(${t.dependsOn}, NULL) IS NULL)`,
    ),
    check("tasks_depends_on_unique_check", sql`uuid_array_is_distinct(${t.dependsOn})`),
    // "A spec's tasks by status", and the spec_id FK.
    index("tasks_spec_id_status_idx").on(t.specId, t.status),
    // The agent_run_id FK (agent_run_id, spec_id): finds a run's tasks when the run is deleted
    // (SET NULL) or listed. Partial: most tasks wait unassigned and need no entry.
    index("tasks_agent_run_id_spec_id_idx")
      .on(t.agentRunId, t.specId)
      .where(sql`${t.agentRunId} IS NOT NULL`),
    // "Which tasks depend on X": what the delete guard of depends_on asks on every task delete.
    index("tasks_depends_on_idx").using("gin", t.dependsOn),
  ],
);

export const artifacts = pgTable(
  "artifacts",
  {
    id: id(),
    // What a run produced goes with the run.
    agentRunId: uuid().notNull(),
    type: artifactType().notNull(),
    /** Where the artifact is stored (object-store key or URL path). */
    path: text().notNull(),
    metadata: jsonObject().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKeyOf("artifacts_agent_run_id_fkey", t.agentRunId, agentRuns.id, "cascade"),
    nonBlank("artifacts_path_check", t.path),
    jsonObjectCheck("artifacts_metadata_check", t.metadata),
    // "A run's artifacts", in the order produced; also the agent_run_id FK.
    index("artifacts_agent_run_id_created_at_idx").on(t.agentRunId, t.createdAt),
  ],
);

export type AgentRun = typeof agentRuns.$inferSelect;
export type NewAgentRun = typeof agentRuns.$inferInsert;
export type Task = typeof tasks.$inferSelect;
export type NewTask = typeof tasks.$inferInsert;
export type Artifact = typeof artifacts.$inferSelect;
export type NewArtifact = typeof artifacts.$inferInsert;
