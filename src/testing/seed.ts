// Development and test data: a small, complete picture of the domain — two people in a team, a
// spec with two versions (one by a person, one by an agent run), the run, its tasks with
// dependencies, what it produced, the audit trail and an API key. Fixed ids and timestamps make it
// deterministic, so seeding twice changes nothing and tests and screenshots can rely on it.
// `db seed` inserts it into the local database; other packages of the platform insert the same
// picture into their test databases: `await seed(t.db)` (exported by @kata/db/testing).

import { hashApiKey } from "../api-keys.ts";
import type { Database } from "../client.ts";
import type {
  NewAgentRun,
  NewApiKey,
  NewArtifact,
  NewAuditEntry,
  NewSpec,
  NewSpecVersion,
  NewTask,
  NewTeam,
  NewTeamMember,
  NewUser,
  SpecContent,
} from "../schema/index.ts";
import * as schema from "../schema/index.ts";

/** Recognisable fixed ids: 5eed…-<table>-…-<n>. */
const id = (table: number, n: number) =>
  `5eed0000-000${table}-4000-8000-${String(n).padStart(12, "0")}`;
/** Minutes after a fixed start, so every timestamp is the same on every machine. */
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 5, 9, minutes));

export const ids = {
  ada: id(1, 1),
  grace: id(1, 2),
  team: id(2, 1),
  spec: id(3, 1),
  run: id(4, 1),
  environment: id(4, 99),
  taskSchema: id(5, 1),
  taskApi: id(5, 2),
  taskTests: id(5, 3),
};

/**
 * The seeded API key, for local development only (it is public, here). Only its SHA-256 is
 * stored, like every key's.
 */
export const DEV_API_KEY = "kata_devSeedKeyForLocalDevelopmentOnly0000";

const content: SpecContent = {
  intent: "Users sign in with a passkey instead of a password.",
  constraints: ["WebAuthn level 2", "no password fallback for new accounts"],
  verification: ["an end-to-end test signs up and signs in with a virtual authenticator"],
  decisions: [],
  blockers: [],
  taskIds: [ids.taskSchema, ids.taskApi, ids.taskTests],
};

const users: NewUser[] = [
  { id: ids.ada, email: "ada@example.com", name: "Ada Lovelace", createdAt: at(0) },
  { id: ids.grace, email: "grace@example.com", name: "Grace Hopper", createdAt: at(1) },
];

const teams: NewTeam[] = [
  { id: ids.team, name: "Core Platform", slug: "core-platform", createdAt: at(2) },
];

const teamMembers: NewTeamMember[] = [
  { userId: ids.ada, teamId: ids.team, role: "admin", createdAt: at(2) },
  { userId: ids.grace, teamId: ids.team, role: "member", createdAt: at(3) },
];

const specs: NewSpec[] = [
  {
    id: ids.spec,
    teamId: ids.team,
    title: "Sign in with passkeys",
    status: "active",
    content: { ...content, decisions: ["store credentials per user, not per device"] },
    createdBy: ids.ada,
    createdAt: at(10),
    updatedAt: at(40),
  },
];

const agentRuns: NewAgentRun[] = [
  {
    id: ids.run,
    specId: ids.spec,
    agentRole: "coordinator",
    environmentId: ids.environment,
    model: "claude-sonnet-4",
    status: "completed",
    startedAt: at(20),
    completedAt: at(40),
    createdAt: at(19),
  },
];

/** Version 1 by Ada; version 2 by the agent run (its actor must be a run of the same spec). */
const specVersions: NewSpecVersion[] = [
  {
    id: id(6, 1),
    specId: ids.spec,
    versionNumber: 1,
    content,
    actorId: ids.ada,
    actorType: "user",
    changeSummary: "First draft",
    createdAt: at(10),
  },
  {
    id: id(6, 2),
    specId: ids.spec,
    versionNumber: 2,
    content: { ...content, decisions: ["store credentials per user, not per device"] },
    actorId: ids.run,
    actorType: "agent",
    changeSummary: "Recorded the credential storage decision",
    createdAt: at(40),
  },
];

const tasks: NewTask[] = [
  {
    id: ids.taskSchema,
    specId: ids.spec,
    agentRunId: ids.run,
    title: "Add the credentials table",
    status: "completed",
    result: { migration: "0003_passkey_credentials" },
    createdAt: at(21),
    updatedAt: at(30),
  },
  {
    id: ids.taskApi,
    specId: ids.spec,
    title: "Implement the WebAuthn endpoints",
    status: "pending",
    dependsOn: [ids.taskSchema],
    createdAt: at(21),
    updatedAt: at(21),
  },
  {
    id: ids.taskTests,
    specId: ids.spec,
    title: "End-to-end test with a virtual authenticator",
    status: "pending",
    dependsOn: [ids.taskSchema, ids.taskApi],
    createdAt: at(21),
    updatedAt: at(21),
  },
];

const artifacts: NewArtifact[] = [
  {
    id: id(7, 1),
    agentRunId: ids.run,
    type: "diff",
    path: "runs/5eed/credentials-table.diff",
    metadata: { files: 2, insertions: 41 },
    createdAt: at(30),
  },
  {
    id: id(7, 2),
    agentRunId: ids.run,
    type: "test_report",
    path: "runs/5eed/report.xml",
    metadata: { passed: 12, failed: 0 },
    createdAt: at(39),
  },
];

const auditLog: NewAuditEntry[] = [
  {
    id: id(8, 1),
    teamId: ids.team,
    action: "spec.created",
    details: { specId: ids.spec },
    timestamp: at(10),
  },
  {
    id: id(8, 2),
    teamId: ids.team,
    agentRunId: ids.run,
    action: "agent_run.completed",
    details: { specId: ids.spec, tasksCompleted: 1 },
    timestamp: at(40),
  },
];

const apiKeys: NewApiKey[] = [
  {
    id: id(9, 1),
    teamId: ids.team,
    name: "Local development",
    keyHash: hashApiKey(DEV_API_KEY),
    prefix: DEV_API_KEY.slice(0, 13),
    createdBy: ids.ada,
    createdAt: at(5),
  },
];

/**
 * Insert the picture into a database migrated to this package's schema, in one transaction;
 * rows already there (the same fixed ids) are left alone. Resolves with the number of rows
 * inserted: 0 when it was there already.
 */
export async function seed(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    // Parents before children: the foreign keys and the spec_versions actor trigger need them.
    const steps = [
      () => tx.insert(schema.users).values(users).onConflictDoNothing(),
      () => tx.insert(schema.teams).values(teams).onConflictDoNothing(),
      () => tx.insert(schema.teamMembers).values(teamMembers).onConflictDoNothing(),
      () => tx.insert(schema.specs).values(specs).onConflictDoNothing(),
      () => tx.insert(schema.agentRuns).values(agentRuns).onConflictDoNothing(),
      () => tx.insert(schema.specVersions).values(specVersions).onConflictDoNothing(),
      () => tx.insert(schema.tasks).values(tasks).onConflictDoNothing(),
      () => tx.insert(schema.artifacts).values(artifacts).onConflictDoNothing(),
      () => tx.insert(schema.auditLog).values(auditLog).onConflictDoNothing(),
      () => tx.insert(schema.apiKeys).values(apiKeys).onConflictDoNothing(),
    ];
    let inserted = 0;
    for (const insert of steps) inserted += (await insert()).count;
    return inserted;
  });
}
