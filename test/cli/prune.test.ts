// `db prune`: the one way saved branch copies go away (branch switches never remove one). As a
// process, in a repository with the hooks: copies of a deleted branch by default, named ones, or
// all; refused without a terminal unless --yes, and nothing removed then.

import { chmodSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type Repo } from "../guards/repo.ts";
import { testPort } from "../helpers/ports.ts";
import { oneLineError, PASSWORD } from "./helpers.ts";

let repo: Repo;

const copies = async () => {
  const status = await repo.db("status", "--json");
  expect(status.code, status.stderr).toBe(0);
  const json = JSON.parse(status.stdout) as { copies?: { name: string; branch: string }[] };
  return (json.copies ?? []).map((c) => c.branch).sort();
};
const ok = async (...args: string[]) => {
  const result = await repo.db(...args);
  expect(result.code, `db ${args.join(" ")}:\n${result.stderr}`).toBe(0);
  return result;
};

beforeAll(async () => {
  repo = await makeRepo();
  chmodSync(dirname(repo.dir), 0o755);
  const [pg, redis] = [await testPort(), await testPort()];
  repo.write(
    ".env",
    `DATABASE_URL=postgres://kata:${PASSWORD}@127.0.0.1:${pg}/kata\nREDIS_URL=redis://127.0.0.1:${redis}\nDB_BACKEND=embedded\n`,
  );
  await ok("up");
  // main → feat/gone (a copy of main's is kept) → main (feat/gone's kept) → feat/kept → main.
  for (const branch of ["feat/gone", "main", "feat/kept", "main"]) {
    const flag = branch === "main" ? [] : ["-b"];
    repo.git("checkout", "-q", ...flag, branch);
  }
  repo.git("branch", "-D", "feat/gone");
}, 120_000);

afterAll(async () => {
  await repo?.db("down", "--volumes");
  repo?.remove();
});

describe("db prune", () => {
  it("without a terminal and without --yes: refused, nothing removed", async () => {
    expect(await copies()).toEqual(["feat/gone", "feat/kept"]);
    const refused = await repo.db("prune");
    expect(refused.code).toBe(1);
    expect(oneLineError(refused)).toMatch(
      /^✖ remove 1 saved copy \([\d.]+ MB\): refusing without a terminal to ask on; add --yes to go ahead$/,
    );
    expect(refused.stdout).toMatch(/kata__kata_[0-9a-f]+ {2}copy of feat\/gone at 0002_/);
    expect(await copies()).toEqual(["feat/gone", "feat/kept"]);
  });

  it("a copy that does not exist is a usage error", async () => {
    const wrong = await repo.db("prune", "--yes", "kata__kata_00000000");
    expect(wrong.code).toBe(2);
    expect(oneLineError(wrong)).toMatch(/no saved copy named kata__kata_00000000/);
  });

  it("--yes: the copies of branches git no longer has, and only those", async () => {
    const pruned = await ok("prune", "--yes");
    expect(pruned.stderr).toMatch(/removed kata__kata_[0-9a-f]+, the copy of feat\/gone at/);
    expect(await copies()).toEqual(["feat/kept"]);
    const again = await ok("prune", "--yes");
    expect(again.stderr).toMatch(/no saved copy to remove/);
  });

  it("--all --yes: every copy; the live database stays", async () => {
    await ok("prune", "--all", "--yes");
    expect(await copies()).toEqual([]);
    await ok("status");
  });
});
