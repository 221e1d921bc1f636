import { sql } from "drizzle-orm";
import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, foreignKeyOf, id, jsonObject, jsonObjectCheck, nonBlank } from "./columns.ts";
import { teams } from "./identity.ts";
import { agentRuns } from "./runs.ts";

// Audit: what happened in a team, by whom or by which run. Rows are written once and never
// updated (the audit_log_immutable trigger); the only change allowed is the one the agent_run_id
// foreign key itself makes when a run is deleted.

export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    // The trail belongs to the team: deleting a team deletes its trail with everything else.
    teamId: uuid().notNull(),
    // SET NULL keeps the entry when its run is deleted: what happened stays on record.
    agentRunId: uuid(),
    /** What happened, e.g. "spec.published". */
    action: text().notNull(),
    details: jsonObject().notNull().default({}),
    /** When it happened (the contract's field name). */
    timestamp: createdAt(),
  },
  (t) => [
    foreignKeyOf("audit_log_team_id_fkey", t.teamId, teams.id, "cascade"),
    foreignKeyOf("audit_log_agent_run_id_fkey", t.agentRunId, agentRuns.id, "set null"),
    nonBlank("audit_log_action_check", t.action),
    jsonObjectCheck("audit_log_details_check", t.details),
    // "A team's audit log, newest first": without it the page sorts the whole team's trail.
    // Also the team_id FK index.
    index("audit_log_team_id_timestamp_idx").on(t.teamId, t.timestamp.desc()),
    index("audit_log_agent_run_id_idx").on(t.agentRunId).where(sql`${t.agentRunId} IS NOT NULL`),
  ],
);

export type AuditEntry = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;
