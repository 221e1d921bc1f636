// Dangerous operations in new migrations: squawk refuses the commit; `-- squawk-ignore <rule>`
// on the line before the statement acknowledges it on purpose (and `db generate` records the
// edited file again). Committed with --no-verify, `db check --base REF` still lints it.

import { describe, it } from "vitest";
import { inRepo } from "./repo.ts";

describe.concurrent("squawk over new migrations", () => {
  it(
    "refuses a NOT NULL column without default; -- squawk-ignore acknowledges it",
    inRepo(async (expect, repo) => {
      const baseline = repo.git("rev-parse", "HEAD");
      repo.addColumn("teams", "quota", "text().notNull()");
      const migration = await repo.generate("require_team_quota");
      repo.git("add", "-A");

      const before = repo.state();
      const refused = await repo.commit("require teams.quota");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^✖ ${migration}:\\d+: squawk adding-required-field: .* acknowledge it on purpose with \`-- squawk-ignore adding-required-field\` on the line before it, then run \`db generate\``,
          "m",
        ),
      );
      expect(repo.state()).toEqual(before);

      // Acknowledged, but not recorded yet: the file no longer matches migrations.sum.
      repo.edit(migration, (sql) =>
        sql.replace(
          'ALTER TABLE "teams"',
          '-- squawk-ignore adding-required-field -- teams is empty in every environment\nALTER TABLE "teams"',
        ),
      );
      repo.git("add", "-A");
      const unrecorded = await repo.commit("require teams.quota");
      expect(unrecorded.code).not.toBe(0);
      expect(unrecorded.stderr).toMatch(
        new RegExp(
          `^✖ ${migration} changed after \`db generate\` recorded it in drizzle/migrations\\.sum \\(it is not committed yet\\): run \`db generate\` again`,
          "m",
        ),
      );
      expect(unrecorded.stderr).not.toMatch(/squawk adding-required-field/);

      expect((await repo.db("generate")).code).toBe(0);
      repo.git("add", "-A");
      const accepted = await repo.commit("require teams.quota");
      expect(accepted.code, accepted.stderr).toBe(0);

      // Committed: no longer new for `db check`, but new since the baseline for --base.
      expect((await repo.db("check")).code).toBe(0);
      expect((await repo.db("check", "--base", baseline)).code).toBe(0);
    }),
    120_000,
  );

  it(
    "a dangerous migration committed with --no-verify is caught by db check --base",
    inRepo(async (expect, repo) => {
      const baseline = repo.git("rev-parse", "HEAD");
      repo.addColumn("users", "nickname", "text().notNull()");
      const migration = await repo.generate("require_nickname");
      repo.git("add", "-A");
      expect((await repo.commit("require users.nickname", "--no-verify")).code).toBe(0);
      const since = await repo.db("check", "--base", baseline);
      expect(since.code).toBe(1);
      expect(since.stderr).toMatch(
        new RegExp(`^✖ ${migration}:\\d+: squawk adding-required-field`, "m"),
      );
      const plain = await repo.db("check");
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stderr).toMatch(/^✔ squawk: no new migration \(not in HEAD\)/m);
    }),
    90_000,
  );
});
