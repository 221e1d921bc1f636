import { sql } from "drizzle-orm";
import { check, index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, foreignKeyOf, id, instant, nonBlank } from "./columns.ts";
import { teams, users } from "./identity.ts";

// API keys of a team. Only the SHA-256 of a key is stored (see src/api-keys.ts); "active" is
// derived from the timestamps — not revoked and not expired — and never stored.

export const apiKeys = pgTable(
  "api_keys",
  {
    id: id(),
    teamId: uuid().notNull(),
    name: text().notNull(),
    /** Lowercase hex SHA-256 of the whole key. The CHECK makes storing a raw key impossible. */
    keyHash: text().notNull(),
    /** The displayable start of the key ("kata_1a2b3c4d"), to recognise it in a list. */
    prefix: text().notNull(),
    // RESTRICT, as for specs.created_by: who issued a key must stay known.
    createdBy: uuid().notNull(),
    createdAt: createdAt(),
    /** NULL: never expires. */
    expiresAt: instant(),
    revokedAt: instant(),
    lastUsedAt: instant(),
  },
  (t) => [
    foreignKeyOf("api_keys_team_id_fkey", t.teamId, teams.id, "cascade"),
    foreignKeyOf("api_keys_created_by_fkey", t.createdBy, users.id, "restrict"),
    uniqueIndex("api_keys_key_hash_key").on(t.keyHash),
    check("api_keys_key_hash_check", sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
    nonBlank("api_keys_name_check", t.name),
    nonBlank("api_keys_prefix_check", t.prefix),
    check("api_keys_expires_at_check", sql`${t.expiresAt} >= ${t.createdAt}`),
    check("api_keys_revoked_at_check", sql`${t.revokedAt} >= ${t.createdAt}`),
    check("api_keys_last_used_at_check", sql`${t.lastUsedAt} >= ${t.createdAt}`),
    // The team_id FK index (the cascade from teams must also find revoked keys).
    index("api_keys_team_id_idx").on(t.teamId),
    // "A team's active keys": unrevoked ones, with expires_at in the index so the expiry test
    // (which depends on now() and so cannot be part of the predicate) needs no table visit.
    index("api_keys_team_id_active_idx")
      .on(t.teamId, t.expiresAt)
      .where(sql`${t.revokedAt} IS NULL`),
    index("api_keys_created_by_idx").on(t.createdBy),
  ],
);

export type ApiKey = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
