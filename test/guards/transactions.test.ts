// A new migration with its own BEGIN/COMMIT is refused at commit time (the migrator runs each
// file in a transaction of its own, which that COMMIT would end); `-- kata:no-transaction` on its
// first line accepts it, and a function body's BEGIN … END is no such thing. Committed ones are
// immutable, so `db check` no longer judges them — `--base` still does, for CI — and the
// migrator refuses them where they are pending (test/migrator.test.ts).

import { readdirSync } from "node:fs";
import { describe, it } from "vitest";
import { inRepo, type Repo } from "./repo.ts";

const OWN_TRANSACTION = [
  "-- Custom SQL migration file, put your code below! --",
  "BEGIN;",
  'UPDATE "teams" SET "slug" = "slug";',
  "COMMIT;",
  "",
].join("\n");

/** `db generate --custom --name NAME`, filled in with `sql` and recorded; returns its path. */
async function customMigration(repo: Repo, name: string, sql: string): Promise<string> {
  const made = await repo.db("generate", "--custom", "--name", name);
  if (made.code !== 0) throw new Error(`db generate --custom failed:\n${made.stderr}`);
  const file = readdirSync(repo.path("drizzle")).find((n) => n.endsWith(`_${name}.sql`));
  if (!file) throw new Error(`no ${name} migration:\n${made.stdout}`);
  repo.write(`drizzle/${file}`, sql);
  const recorded = await repo.db("generate");
  if (recorded.code !== 0) throw new Error(`db generate failed:\n${recorded.stderr}`);
  return `drizzle/${file}`;
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe.concurrent("transaction control in new migrations", () => {
  it(
    "is refused by the hook with the file, the statement and the fixes; the marker accepts it",
    inRepo(async (expect, repo) => {
      const migration = await customMigration(repo, "backfill_slugs", OWN_TRANSACTION);
      repo.git("add", "-A");
      const before = repo.state();
      const refused = await repo.commit("backfill slugs");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^✖ ${escaped(migration)}:2: \`BEGIN\` \\(statement #1\\) \\(and \`COMMIT\` at line 4\\) would end the transaction the migrator runs this file in, and the migrator refuses it: remove the file's BEGIN/COMMIT statements, or put \`-- kata:no-transaction\` on its first line to run it without a transaction; then run \`db generate\` to record the file again$`,
          "m",
        ),
      );
      expect(refused.stderr).toMatch(/^✖ db check: 1 finding in the staged tree/m);
      expect(repo.state()).toEqual(before);

      repo.edit(migration, (sql) => `-- kata:no-transaction\n${sql}`);
      expect((await repo.db("generate")).code).toBe(0);
      repo.git("add", "-A");
      const accepted = await repo.commit("backfill slugs, without the migrator's transaction");
      expect(accepted.code, accepted.stderr).toBe(0);
    }),
    120_000,
  );

  it(
    "is no finding once committed (db check --base still finds it); a function body never is",
    inRepo(async (expect, repo) => {
      const baseline = repo.git("rev-parse", "HEAD");
      await customMigration(
        repo,
        "touch_function",
        [
          "CREATE FUNCTION touch_teams() RETURNS trigger AS $$",
          "BEGIN",
          "  RETURN NEW;",
          "END;",
          "$$ LANGUAGE plpgsql;",
          "",
        ].join("\n"),
      );
      repo.git("add", "-A");
      const body = await repo.commit("a function");
      expect(body.code, body.stderr).toBe(0);

      const migration = await customMigration(repo, "backfill_slugs", OWN_TRANSACTION);
      repo.git("add", "-A");
      expect((await repo.commit("backfill slugs", "--no-verify")).code).toBe(0);
      const plain = await repo.db("check");
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stderr).toMatch(/^✔ transactions: no new migration \(not in HEAD\)/m);
      const since = await repo.db("check", "--base", baseline);
      expect(since.code).toBe(1);
      expect(since.stderr).toMatch(
        new RegExp(`^✖ ${escaped(migration)}:2: \`BEGIN\` \\(statement #1\\)`, "m"),
      );
      expect(since.stderr).not.toMatch(/touch_function\.sql:\d+: `/);
    }),
    120_000,
  );
});
