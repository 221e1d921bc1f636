import { sql } from "drizzle-orm";
import { check, index, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, foreignKeyOf, id, nonBlank } from "./columns.ts";
import { teamRole } from "./enums.ts";

// Identity: who uses the platform and how they are grouped.

export const users = pgTable(
  "users",
  {
    id: id(),
    /** Login and contact address. Unique regardless of letter case (see users_email_key). */
    email: text().notNull(),
    name: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // Case-insensitive uniqueness: "Ada@x.io" and "ada@x.io" are one mailbox in practice, and a
    // plain UNIQUE(email) would let both sign up. Stored as typed so the address reads as given.
    uniqueIndex("users_email_key").on(sql`lower(${t.email})`),
    // Deliberately loose (one "@", something on both sides, no white space, RFC 5321 length):
    // rejects what is certainly not an address without refusing unusual valid ones.
    check(
      "users_email_check",
      sql`${t.email} ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(${t.email}) <= 254`,
    ),
    nonBlank("users_name_check", t.name),
  ],
);

export const teams = pgTable(
  "teams",
  {
    id: id(),
    name: text().notNull(),
    /** URL-safe handle: lowercase words joined by single hyphens, e.g. `core-platform`. */
    slug: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("teams_slug_key").on(t.slug),
    check("teams_slug_check", sql`${t.slug} ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'`),
    nonBlank("teams_name_check", t.name),
  ],
);

export const teamMembers = pgTable(
  "team_members",
  {
    // A membership means nothing without both sides: it goes with the user or the team.
    userId: uuid().notNull(),
    teamId: uuid().notNull(),
    role: teamRole().notNull().default("member"),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKeyOf("team_members_user_id_fkey", t.userId, users.id, "cascade"),
    foreignKeyOf("team_members_team_id_fkey", t.teamId, teams.id, "cascade"),
    primaryKey({ name: "team_members_pkey", columns: [t.userId, t.teamId] }),
    // The primary key (user_id, team_id) serves "a user's teams" and the user_id foreign key;
    // listing a team's members and the team_id cascade need team_id first.
    index("team_members_team_id_idx").on(t.teamId),
  ],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type Team = typeof teams.$inferSelect;
export type NewTeam = typeof teams.$inferInsert;
export type TeamMember = typeof teamMembers.$inferSelect;
export type NewTeamMember = typeof teamMembers.$inferInsert;
