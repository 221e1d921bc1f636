// The migrator's refusals, explained for a person at this checkout: the migration by its tag
// (an unknown one looked up in git: "0003_add_x, on branch feat/x") and the command that fixes it.
// The library's own message stays as it is for callers without git or a CLI. Here, beside the
// branch copies and migration origins, because both answers come from them.

import { MigrationError } from "../../src/migrator.ts";
import { type Config, isLocalHost } from "../basics/env.ts";
import { CliError } from "../cli/task.ts";
import { committedTags } from "./branch-copies.ts";
import { describeUnknown } from "./migration-origin.ts";

export async function explainRefusal(error: unknown, config: Config): Promise<unknown> {
  if (!(error instanceof MigrationError) || !error.status) return error;
  const { modified, unknownRecords } = error.status;
  const { host, port, database } = config.postgres;
  const local = isLocalHost(host);
  const where = local ? database : `${database} at ${host}:${port}`;
  if (modified.length > 0) {
    const committed = (await committedTags()) ?? new Set<string>();
    const tag = modified.find((t) => committed.has(t)) ?? (modified[0] as string);
    if (committed.has(tag) || !local) {
      return new CliError(
        `refusing to migrate: ${tag} was changed after it was applied to ${where}, and ${committed.has(tag) ? "it is committed (committed migrations never change)" : "that database is not on this machine (only local ones are undone)"}: restore it (git checkout HEAD -- drizzle/${tag}.sql) and put the change in a new migration (\`db generate\`)`,
        1,
        error,
      );
    }
    return new CliError(
      `refusing to migrate: ${tag} was changed after it was applied to ${where} (not committed yet): \`db up\` takes the new version (only comments changed: in place; otherwise from the copy of ${database} saved before ${tag} was applied)`,
      1,
      error,
    );
  }
  // Other refusals (a file drizzle would skip, a file's own BEGIN/COMMIT) say all there is.
  if (unknownRecords.length === 0) return error;
  const described = await describeUnknown(unknownRecords);
  const list = described.join("; ");
  return new CliError(
    local
      ? `refusing to migrate: ${where} has migrations this checkout does not have: ${list}; \`db up\` keeps that database as its branch's copy and brings back one that fits this checkout`
      : `refusing to migrate: ${where} has migrations this checkout does not have: ${list}; migrate it from a checkout that has them (check out or merge that branch)`,
    1,
    error,
  );
}
