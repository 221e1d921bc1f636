import { pgEnum } from "drizzle-orm/pg-core";

// The closed sets of the shared domain contract, in the contract's order. PostgreSQL enums reject
// any other value at write time (SQLSTATE 22P02), so a drifted value can never be stored. Adding a
// value later is a migration (ALTER TYPE … ADD VALUE); removing one is a deliberate data migration.

export const teamRoles = ["admin", "member", "viewer"] as const;
export type TeamRole = (typeof teamRoles)[number];
export const teamRole = pgEnum("team_role", teamRoles);

export const specStatuses = ["draft", "active", "paused", "completed", "archived"] as const;
export type SpecStatus = (typeof specStatuses)[number];
export const specStatus = pgEnum("spec_status", specStatuses);

export const agentRunStatuses = ["queued", "running", "completed", "failed", "cancelled"] as const;
export type AgentRunStatus = (typeof agentRunStatuses)[number];
export const agentRunStatus = pgEnum("agent_run_status", agentRunStatuses);

export const taskStatuses = [
  "pending",
  "assigned",
  "running",
  "completed",
  "failed",
  "skipped",
] as const;
export type TaskStatus = (typeof taskStatuses)[number];
export const taskStatus = pgEnum("task_status", taskStatuses);

export const agentRoles = ["coordinator", "specialist", "verifier"] as const;
export type AgentRole = (typeof agentRoles)[number];
export const agentRole = pgEnum("agent_role", agentRoles);

export const artifactTypes = ["screenshot", "video", "test_report", "diff", "log", "file"] as const;
export type ArtifactType = (typeof artifactTypes)[number];
export const artifactType = pgEnum("artifact_type", artifactTypes);

export const actorTypes = ["user", "agent"] as const;
export type ActorType = (typeof actorTypes)[number];
export const actorType = pgEnum("actor_type", actorTypes);
