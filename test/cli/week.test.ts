// A week of work on one checkout, scripted: a temporary git repository holding a copy of this
// project with the hooks installed (.husky/post-checkout among them), the embedded backend, real
// commits, checkouts and a rebase. After each step the local database has the schema of the
// branch checked out and every row it should — and nothing ever needs `db reset`.
//
// branch with a migration → back to main → a teammate's migration on main → back to the branch
// → rebase and regenerate (docs/guards.md's collision fix) → a squawk acknowledgement in the
// applied, uncommitted migration → an uncommitted migration really edited.

import { chmodSync, readdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type Repo } from "../guards/repo.ts";
import { testPort } from "../helpers/ports.ts";
import { oneLineError, PASSWORD, runProcess } from "./helpers.ts";

let repo: Repo;
let url: string;

const db = async (...args: string[]) => {
  const result = await repo.db(...args);
  expect(result.code, `db ${args.join(" ")}:\n${result.stderr}`).toBe(0);
  return result;
};
const git = async (...args: string[]) => {
  const result = await runProcess("git", ["-C", repo.dir, ...args], repo.env);
  expect(result.code, `git ${args.join(" ")}:\n${result.stderr}`).toBe(0);
  return result;
};
const query = async <T = Record<string, unknown>>(text: string): Promise<T[]> => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
};
const columns = async (table: string) =>
  (
    await query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' ORDER BY column_name`,
    )
  ).map((row) => row.column_name);
const emails = async () =>
  (await query<{ email: string }>("SELECT email FROM users ORDER BY email")).map((r) => r.email);
const addUser = (email: string) =>
  query(`INSERT INTO users (email, name) VALUES ('${email}', 'Someone')`);
const clean = async () => {
  const status = await repo.db("status", "--json");
  expect(status.code, status.stdout + status.stderr).toBe(0);
  return JSON.parse(status.stdout) as {
    copies?: { name: string; kind: string; branch: string; at: string; bytes: number }[];
  };
};
const migration = (name: string) => {
  const file = readdirSync(repo.path("drizzle")).find((n) => n.endsWith(`_${name}.sql`));
  if (!file) throw new Error(`no migration ${name}`);
  return `drizzle/${file}`;
};

beforeAll(async () => {
  repo = await makeRepo();
  // As root the server runs as `postgres`, which must reach .data/ (mkdtemp gives 0700).
  chmodSync(dirname(repo.dir), 0o755);
  const [pgPort, redisPort] = [await testPort(), await testPort()];
  url = `postgres://kata:${PASSWORD}@127.0.0.1:${pgPort}/kata`;
  repo.write(
    ".env",
    `DATABASE_URL=${url}\nREDIS_URL=redis://127.0.0.1:${redisPort}\nDB_BACKEND=embedded\n`,
  );
}, 120_000);

afterAll(async () => {
  if (!repo) return;
  await repo.db("down", "--volumes");
  rmSync(dirname(repo.dir), { recursive: true, force: true });
});

describe("a week on one checkout, on the embedded backend", () => {
  const MAIN = ["ada@example.com", "grace@example.com", "main-1@example.com"];

  it("monday: main is up and seeded", async () => {
    await db("up");
    await db("seed");
    await addUser("main-1@example.com");
    expect(await emails()).toEqual(MAIN);
    await clean();
  });

  it("a branch with a migration, applied and committed", async () => {
    await git("checkout", "-q", "-b", "feat/quota");
    repo.addColumn("teams", "quota");
    await repo.generate("add_quota");
    await db("up");
    await addUser("feat-1@example.com");
    await query("UPDATE teams SET quota = 'seven'");
    repo.git("add", "-A");
    const commit = await repo.commit("teams.quota");
    expect(commit.code, commit.stderr).toBe(0);
    expect(await columns("teams")).toContain("quota");
    await clean();
  }, 120_000);

  it("back to main: main's data at main's schema, from the hook alone", async () => {
    const checkout = await git("checkout", "-q", "main");
    const kept = checkout.stderr.match(/kept as (kata__kata_[0-9a-f]+), the copy of feat\/quota/);
    expect(kept).not.toBeNull();
    expect(await columns("teams")).not.toContain("quota");
    expect(await emails()).toEqual(MAIN);
    // `db status` lists it: whose, at which migration (only on the branch: git says so), how big.
    const { copies } = await clean();
    const branchCopy = copies?.find((c) => c.name === kept?.[1]);
    expect(branchCopy).toMatchObject({ kind: "branch", branch: "feat/quota" });
    expect(branchCopy?.at).toMatch(/^\d{4}_add_quota, on branch feat\/quota$/);
    expect(branchCopy?.bytes).toBeGreaterThan(1024 * 1024);
    const table = await db("status");
    expect(table.stdout).toMatch(/^copies {6}\d+ saved, [\d.]+ MB in all/m);
    expect(table.stdout).toContain(`feat/quota at ${branchCopy?.at}`);
  }, 60_000);

  it("a teammate's migration lands on main", async () => {
    repo.addColumn("users", "nickname");
    await repo.generate("add_nickname");
    repo.git("add", "-A");
    expect((await repo.commit("users.nickname")).code).toBe(0);
    await db("up");
    await addUser("main-2@example.com");
    expect(await columns("users")).toContain("nickname");
    await clean();
  }, 120_000);

  it("back to the branch: the branch's data, its quota and no nickname", async () => {
    await git("checkout", "-q", "feat/quota");
    expect(await columns("teams")).toContain("quota");
    expect(await columns("users")).not.toContain("nickname");
    expect(await emails()).toEqual([...MAIN, "feat-1@example.com"].sort());
    expect(await query("SELECT DISTINCT quota FROM teams")).toEqual([{ quota: "seven" }]);
    await clean();
  }, 60_000);

  it("without the hook (a GUI client), every refusal names the migration, its branch and the fix", async () => {
    await git("-c", "core.hooksPath=/dev/null", "checkout", "-q", "main");
    const migrate = await repo.db("migrate");
    expect(migrate.code).toBe(1);
    expect(oneLineError(migrate)).toMatch(
      /refusing to migrate: kata has migrations this checkout does not have: \d{4}_add_quota, on branch feat\/quota; `db up` keeps that database as its branch's copy/,
    );
    const status = await repo.db("status");
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      /applied here but not in this checkout: \d{4}_add_quota, on branch feat\/quota/,
    );
    await git("-c", "core.hooksPath=/dev/null", "checkout", "-q", "feat/quota");
    await clean();
  }, 60_000);

  it("rebase on main and regenerate: the same SQL under a new tag is the one applied", async () => {
    const old = migration("add_quota");
    const rebase = await runProcess("git", ["-C", repo.dir, "rebase", "main"], repo.env);
    expect(rebase.code).not.toBe(0); // both branches added "the next" migration
    // docs/guards.md's collision fix: main's drizzle/, and this branch's migration again on top.
    await git("checkout", "main", "--", "drizzle");
    rmSync(repo.path(old));
    const regenerated = await repo.generate("add_quota");
    expect(regenerated).not.toBe(old);
    repo.git("add", "-A");
    const cont = await runProcess("git", ["-C", repo.dir, "rebase", "--continue"], {
      ...repo.env,
      GIT_EDITOR: "true",
    });
    expect(cont.code, cont.stderr).toBe(0);

    const up = await db("up");
    expect(up.stderr).toMatch(/recognised \d{4}_add_quota by its content .*nothing re-applied/);
    expect(await columns("teams")).toContain("quota");
    expect(await columns("users")).toContain("nickname");
    expect(await emails()).toEqual([...MAIN, "feat-1@example.com"].sort());
    expect(await query("SELECT DISTINCT quota FROM teams")).toEqual([{ quota: "seven" }]);
    // The copy saved before that `db up` holds add_quota as it was before the rebase, which no
    // branch has now: named by its tag, from the commit HEAD's reflog still has.
    const { copies } = await clean();
    expect(copies?.map((c) => c.at)).toContainEqual(
      expect.stringMatching(
        /^\d{4}_add_quota, in commit [0-9a-f]{7}, which no branch has now \(a rebase or reset left it in HEAD's reflog\)$/,
      ),
    );
  }, 180_000);

  it("a squawk acknowledgement in an applied, uncommitted migration keeps the data", async () => {
    await db("generate", "--custom", "--name", "index_team_names");
    const file = migration("index_team_names");
    repo.write(file, "CREATE INDEX teams_name_idx ON teams (name);\n");
    await db("generate");
    await db("up");
    await addUser("feat-2@example.com");
    const check = await repo.db("check");
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/squawk require-concurrent-index-creation/);

    // What db check says to do: acknowledge on the line before, then db generate.
    repo.edit(file, (sql) =>
      sql.replace(
        "CREATE INDEX",
        "-- squawk-ignore require-concurrent-index-creation -- teams is small\nCREATE INDEX",
      ),
    );
    await db("generate");
    const refused = await repo.db("migrate");
    expect(refused.code).toBe(1);
    expect(oneLineError(refused)).toMatch(
      /refusing to migrate: \d{4}_index_team_names was changed after it was applied to kata \(not committed yet\): `db up` takes the new version/,
    );
    const up = await db("up");
    expect(up.stderr).toMatch(
      /index_team_names changed only in its comments since it was applied: record updated, data kept/,
    );
    expect(await emails()).toContain("feat-2@example.com");
    await clean();
    const checked = await repo.db("check");
    expect(checked.code, checked.stderr).toBe(0);
  }, 120_000);

  it("an uncommitted migration really edited: back to before it, the new version applied", async () => {
    repo.edit(migration("index_team_names"), (sql) => sql.replace("(name)", "(name, slug)"));
    await db("generate");
    const up = await db("up");
    expect(up.stderr).toMatch(/kata does not fit .*index_team_names edited since it was applied/);
    expect(up.stderr).toMatch(/restored kata from kata__kata_[0-9a-f]+/);
    const [index] = await query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE indexname = 'teams_name_idx'",
    );
    expect(index?.indexdef).toMatch(/\(name, slug\)/);
    // Back to before the migration: the rows since are in the copy kept aside (named above).
    expect(await emails()).toContain("feat-1@example.com");
    expect(await query("SELECT DISTINCT quota FROM teams")).toEqual([{ quota: "seven" }]);
    await clean();
  }, 120_000);
});
