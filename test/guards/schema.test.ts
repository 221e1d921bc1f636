// No schema change without its migration: a column added or renamed in src/schema with no
// generated migration is refused by the hook and caught by `db check` after --no-verify; the
// rename case is drizzle-kit's question (no terminal), never mistaken for "no changes". A
// comment or a blank line is no schema change. Real commits in throwaway repositories.

import { describe, it } from "vitest";
import { inRepo } from "./repo.ts";

const RENAME =
  /^✖ (the staged )?src\/schema differs from drizzle\/meta\/0002_snapshot\.json and it looks like a rename .*: run `db generate` in a terminal and answer the question/m;

describe.concurrent("src/schema and its migrations", () => {
  it(
    "a column added without a migration is refused; with `db generate` it is accepted",
    inRepo(async (expect, repo) => {
      repo.addColumn("teams", "quota");
      repo.git("add", "-A");
      const before = repo.state();
      const refused = await repo.commit("add teams.quota");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(
        /^✖ the staged src\/schema differs from drizzle\/meta\/0002_snapshot\.json: a schema change with no migration \(it needs: ALTER TABLE "teams" ADD COLUMN "quota" text;\): run `db generate`/m,
      );
      expect(repo.state()).toEqual(before);

      const migration = await repo.generate("add_team_quota");
      repo.git("add", "-A");
      const accepted = await repo.commit("add teams.quota");
      expect(accepted.code, accepted.stderr).toBe(0);
      expect(accepted.stderr).toMatch(
        /^✔ schema: the staged src\/schema matches drizzle\/meta\/0003_snapshot\.json/m,
      );
      expect(accepted.stderr).toMatch(/^✔ squawk: 1 new migration \(not in HEAD\) pass squawk/m);
      expect(repo.git("show", "--name-only", "--format=", "HEAD").split("\n")).toContain(migration);
      const check = await repo.db("check");
      expect(check.code, check.stderr).toBe(0);
    }),
    90_000,
  );

  it(
    "a column added and committed with --no-verify is caught by db check",
    inRepo(async (expect, repo) => {
      repo.addColumn("users", "nickname");
      repo.git("add", "-A");
      expect((await repo.commit("add users.nickname", "--no-verify")).code).toBe(0);
      const check = await repo.db("check");
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(
        /^✖ src\/schema differs from drizzle\/meta\/0002_snapshot\.json: a schema change with no migration \(it needs: ALTER TABLE "users" ADD COLUMN "nickname" text;\)/m,
      );
    }),
    60_000,
  );

  it(
    "a renamed column without a migration is refused as a rename, and caught after --no-verify",
    inRepo(async (expect, repo) => {
      repo.edit("src/schema/identity.ts", (text) =>
        text.replace("slug: text()", "handle: text()").replaceAll("t.slug", "t.handle"),
      );
      repo.git("add", "-A");
      const before = repo.state();
      const refused = await repo.commit("rename teams.slug");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(RENAME);
      expect(repo.state()).toEqual(before);

      expect((await repo.commit("rename teams.slug", "--no-verify")).code).toBe(0);
      const check = await repo.db("check");
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(RENAME);
      expect(check.stderr).not.toMatch(/No schema changes/);
    }),
    60_000,
  );

  it(
    "a comment and a blank line are no schema change: accepted",
    inRepo(async (expect, repo) => {
      repo.edit("src/schema/identity.ts", (text) =>
        text.replace(
          "    slug: text().notNull(),\n",
          "    // Shown in URLs; see teams_slug_check.\n    slug: text().notNull(),\n\n",
        ),
      );
      repo.git("add", "-A");
      const accepted = await repo.commit("comment the slug");
      expect(accepted.code, accepted.stderr).toBe(0);
      expect(accepted.stderr).toMatch(
        /^✔ schema: the staged src\/schema matches drizzle\/meta\/0002_snapshot\.json/m,
      );
    }),
    60_000,
  );
});
