// The schema of @kata/db, grouped by domain. drizzle-kit reads this folder to generate migrations.

// API keys.
export * from "./api-keys.ts";
// Audit trail.
export * from "./audit.ts";
// Enums: the closed sets of the domain contract.
export * from "./enums.ts";
// Identity: users, teams, memberships.
export * from "./identity.ts";
// Relations for relational queries.
export * from "./relations.ts";
// Agent runs, tasks, artifacts.
export * from "./runs.ts";
// Specs and their versions.
export * from "./specs.ts";
