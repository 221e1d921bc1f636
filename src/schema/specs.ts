import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import {
  createdAt,
  foreignKeyOf,
  id,
  jsonObject,
  jsonObjectCheck,
  nonBlank,
  updatedAt,
} from "./columns.ts";
import { actorType, specStatus } from "./enums.ts";
import { teams, users } from "./identity.ts";

// Specs: the documents people write and agents work against, and their version history.

/** The spec document as the contract describes it; stored as one JSONB object. */
export interface SpecContent {
  intent?: string;
  constraints?: unknown[];
  verification?: unknown[];
  decisions?: unknown[];
  blockers?: unknown[];
  taskIds?: string[];
  [key: string]: unknown;
}

export const specs = pgTable(
  "specs",
  {
    id: id(),
    // A spec belongs to its team: deleting the team deletes its specs.
    teamId: uuid().notNull(),
    title: text().notNull(),
    status: specStatus().notNull().default("draft"),
    content: jsonObject<SpecContent>().notNull().default({}),
    // RESTRICT: authorship must not vanish silently. Deleting a user who wrote specs is refused
    // until the specs are handed over or deleted; the column is NOT NULL, so SET NULL is no option.
    createdBy: uuid().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKeyOf("specs_team_id_fkey", t.teamId, teams.id, "cascade"),
    foreignKeyOf("specs_created_by_fkey", t.createdBy, users.id, "restrict"),
    nonBlank("specs_title_check", t.title),
    jsonObjectCheck("specs_content_check", t.content),
    check("specs_updated_at_check", sql`${t.updatedAt} >= ${t.createdAt}`),
    // "A team's specs, most recently touched first": the team's list page. Also the team_id FK index.
    index("specs_team_id_updated_at_idx").on(t.teamId, t.updatedAt.desc()),
    index("specs_created_by_idx").on(t.createdBy),
  ],
);

export const specVersions = pgTable(
  "spec_versions",
  {
    id: id(),
    specId: uuid().notNull(),
    /** 1, 2, 3 … per spec. */
    versionNumber: integer().notNull(),
    content: jsonObject<SpecContent>().notNull(),
    /**
     * Who made this version: a users.id when actor_type is 'user', an agent_runs.id when 'agent'.
     * Not a foreign key (it points into one of two tables); the spec_versions_actor trigger
     * checks at write time that the actor exists. History outlives its actors.
     */
    actorId: uuid().notNull(),
    actorType: actorType().notNull(),
    /** May be empty (the contract allows it), never NULL. */
    changeSummary: text().notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKeyOf("spec_versions_spec_id_fkey", t.specId, specs.id, "cascade"),
    // Also serves "a spec's versions, newest first" (a backward scan) and the spec_id FK.
    unique("spec_versions_spec_id_version_number_key").on(t.specId, t.versionNumber),
    check("spec_versions_version_number_check", sql`${t.versionNumber} > 0`),
    jsonObjectCheck("spec_versions_content_check", t.content),
  ],
);

export type Spec = typeof specs.$inferSelect;
export type NewSpec = typeof specs.$inferInsert;
export type SpecVersion = typeof specVersions.$inferSelect;
export type NewSpecVersion = typeof specVersions.$inferInsert;
