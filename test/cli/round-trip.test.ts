// The plain round trip a new user makes, from the hooks alone: main → feat → main → feat → main,
// with a row inserted on each side every time. Each branch keeps its own rows and columns all the
// way, nothing is removed on the way, and `db status` is clean after every switch. Once in a
// checkout of its own, once in a git worktree (beside a checkout on another branch with a stack
// of its own, untouched by it); on the embedded backend, and on docker wherever an engine answers
// (CI starts one).

import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { makeRepo, type Repo } from "../guards/repo.ts";
import { testPort } from "../helpers/ports.ts";
import { engine } from "./docker-helpers.ts";
import { PASSWORD, runProcess } from "./helpers.ts";

interface Place {
  dir: string;
  url: string;
}

async function place(repo: Repo, dir: string, backend: string): Promise<Place> {
  const [pg, redis] = [await testPort(), await testPort()];
  const url = `postgres://kata:${PASSWORD}@127.0.0.1:${pg}/kata`;
  repo.write(
    join(dir === repo.dir ? "" : "../worktree", ".env"),
    `DATABASE_URL=${url}\nREDIS_URL=redis://127.0.0.1:${redis}\nDB_BACKEND=${backend}\n`,
  );
  return { dir, url };
}

const query = async <T>(url: string, text: string): Promise<T[]> => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
};
const emails = async (url: string) =>
  (await query<{ email: string }>(url, "SELECT email FROM users ORDER BY email")).map(
    (r) => r.email,
  );
const hasAvatar = async (url: string) =>
  (
    await query(
      url,
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'avatar_url'",
    )
  ).length === 1;

function roundTrip(backend: "embedded" | "docker", worktree: boolean) {
  return async () => {
    const repo = await makeRepo();
    chmodSync(dirname(repo.dir), 0o755); // as root the server runs as `postgres`
    const places: Place[] = [];
    const run = async (file: string, args: string[]) => {
      const result = await runProcess(file, args, repo.env);
      expect(result.code, `${file} ${args.join(" ")}:\n${result.stdout}${result.stderr}`).toBe(0);
      return result;
    };
    const db = (where: Place, ...args: string[]) => run(join(where.dir, "scripts/bin/db"), args);
    const git = (where: Place, ...args: string[]) => run("git", ["-C", where.dir, ...args]);
    try {
      let here = await place(repo, repo.dir, backend);
      places.push(here);
      let beside: Place | undefined;
      repo.git("branch", "feat/avatar");
      if (worktree) {
        // The primary checkout parks on a branch of its own, with a stack and a row of its own;
        // the worktree does the round trip (git lets one checkout at a time have main).
        beside = here;
        repo.git("checkout", "-q", "-b", "parking");
        await db(beside, "up");
        await query(beside.url, "INSERT INTO users (email, name) VALUES ('parked@x.io', 'P')");
        const dir = join(dirname(repo.dir), "worktree");
        repo.git("worktree", "add", "-q", dir, "main");
        symlinkSync(repo.path("node_modules"), join(dir, "node_modules"));
        execFileSync("node", [".husky/install.mjs"], { cwd: dir, env: repo.env });
        here = await place(repo, dir, backend);
        places.push(here);
      }
      await db(here, "up");
      await query(here.url, "INSERT INTO users (email, name) VALUES ('main-0@x.io', 'M')");

      // feat/avatar: its migration 0003, applied and committed, and a row.
      await git(here, "checkout", "-q", "feat/avatar");
      const schema = join(here.dir, "src/schema/identity.ts");
      writeFileSync(
        schema,
        readFileSync(schema, "utf8").replace(
          "    email: text().notNull(),\n",
          "    email: text().notNull(),\n    avatarUrl: text(),\n",
        ),
      );
      await db(here, "generate", "--name", "avatar_url");
      await db(here, "up");
      await git(here, "add", "-A");
      await git(here, "commit", "-q", "-m", "users.avatar_url");

      const main = ["main-0@x.io"];
      const feat = ["main-0@x.io"];
      for (let lap = 1; lap <= 2; lap++) {
        feat.push(`branch-${lap}@x.io`);
        await query(here.url, `INSERT INTO users (email, name) VALUES ('branch-${lap}@x.io', 'B')`);

        const toMain = await git(here, "checkout", "-q", "main");
        expect(toMain.stderr).not.toMatch(/removed/);
        expect(toMain.stderr).toMatch(
          /kept as kata__kata_[0-9a-f]+, the copy of feat\/avatar at 0003_avatar_url/,
        );
        expect(await emails(here.url)).toEqual(main.sort());
        expect(await hasAvatar(here.url)).toBe(false);
        await db(here, "status");

        main.push(`main-${lap}@x.io`);
        await query(here.url, `INSERT INTO users (email, name) VALUES ('main-${lap}@x.io', 'M')`);

        const toFeat = await git(here, "checkout", "-q", "feat/avatar");
        expect(toFeat.stderr).not.toMatch(/removed|applied 0003/);
        expect(toFeat.stderr).toMatch(
          /restored kata from kata__kata_[0-9a-f]+: the copy of feat\/avatar at 0003_avatar_url/,
        );
        expect(await emails(here.url)).toEqual(feat.sort());
        expect(await hasAvatar(here.url)).toBe(true);
        await db(here, "status");
      }
      const last = await git(here, "checkout", "-q", "main");
      expect(last.stderr).not.toMatch(/removed/);
      expect(await emails(here.url)).toEqual(main.sort());
      await db(here, "status");
      if (beside) expect(await emails(beside.url)).toEqual(["parked@x.io"]);
    } finally {
      for (const p of places) {
        await runProcess(join(p.dir, "scripts/bin/db"), ["down", "--volumes"], repo.env);
      }
      repo.remove();
    }
  };
}

describe("a round trip between two branches keeps each branch's rows", { concurrent: true }, () => {
  it("embedded, one checkout", roundTrip("embedded", false), 180_000);
  it("embedded, in a worktree beside a checkout", roundTrip("embedded", true), 180_000);
});

// One stack at a time: the docker files of the suite already run several at once on two cores.
describe.skipIf(!engine.ok)("the same round trip on docker", () => {
  it("docker, one checkout", roundTrip("docker", false), 240_000);
  it("docker, in a worktree beside a checkout", roundTrip("docker", true), 240_000);
});
