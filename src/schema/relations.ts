import { relations } from "drizzle-orm";
import { apiKeys } from "./api-keys.ts";
import { auditLog } from "./audit.ts";
import { teamMembers, teams, users } from "./identity.ts";
import { agentRuns, artifacts, tasks } from "./runs.ts";
import { specs, specVersions } from "./specs.ts";

// Relations for drizzle's relational queries (db.query.*). They add no constraint; the
// foreign keys in the table files do that. One block per table, each named after its table.

export const usersRelations = relations(users, ({ many }) => ({
  memberships: many(teamMembers),
  specs: many(specs),
  apiKeys: many(apiKeys),
}));

export const teamsRelations = relations(teams, ({ many }) => ({
  members: many(teamMembers),
  specs: many(specs),
  auditLog: many(auditLog),
  apiKeys: many(apiKeys),
}));

export const teamMembersRelations = relations(teamMembers, ({ one }) => ({
  user: one(users, { fields: [teamMembers.userId], references: [users.id] }),
  team: one(teams, { fields: [teamMembers.teamId], references: [teams.id] }),
}));

export const specsRelations = relations(specs, ({ one, many }) => ({
  team: one(teams, { fields: [specs.teamId], references: [teams.id] }),
  author: one(users, { fields: [specs.createdBy], references: [users.id] }),
  versions: many(specVersions),
  agentRuns: many(agentRuns),
  tasks: many(tasks),
}));

export const specVersionsRelations = relations(specVersions, ({ one }) => ({
  spec: one(specs, { fields: [specVersions.specId], references: [specs.id] }),
}));

export const agentRunsRelations = relations(agentRuns, ({ one, many }) => ({
  spec: one(specs, { fields: [agentRuns.specId], references: [specs.id] }),
  tasks: many(tasks),
  artifacts: many(artifacts),
  auditEntries: many(auditLog),
}));

export const tasksRelations = relations(tasks, ({ one }) => ({
  spec: one(specs, { fields: [tasks.specId], references: [specs.id] }),
  agentRun: one(agentRuns, { fields: [tasks.agentRunId], references: [agentRuns.id] }),
}));

export const artifactsRelations = relations(artifacts, ({ one }) => ({
  agentRun: one(agentRuns, { fields: [artifacts.agentRunId], references: [agentRuns.id] }),
}));

export const auditLogRelations = relations(auditLog, ({ one }) => ({
  team: one(teams, { fields: [auditLog.teamId], references: [teams.id] }),
  agentRun: one(agentRuns, { fields: [auditLog.agentRunId], references: [agentRuns.id] }),
}));

export const apiKeysRelations = relations(apiKeys, ({ one }) => ({
  team: one(teams, { fields: [apiKeys.teamId], references: [teams.id] }),
  creator: one(users, { fields: [apiKeys.createdBy], references: [users.id] }),
}));
