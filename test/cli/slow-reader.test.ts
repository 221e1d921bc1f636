// The whole output reaches a reader slower than the CLI: a pager, or a test runner under load.
// Node keeps what a full pipe will not take yet in a queue, and process.exit used to drop that
// queue: `db migrate --plan` lost its last file, with exit code 0 (seen in the Nix sandbox step).
// Here the plan is made longer than a pipe holds (64 KiB) and read only after 2 s; the CLI must
// wait for the reader, print every line, then exit 0.

import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readJournal } from "../../src/migrations.ts";
import { createTestDatabase, dropTestDatabase } from "../../src/testing/index.ts";
import { makeRepo, type Repo } from "../guards/repo.ts";
import { runProcess } from "./helpers.ts";

describe("output through a full pipe", () => {
  let repo: Repo | undefined;
  let url: string | undefined;
  afterAll(async () => {
    repo?.remove();
    if (url) await dropTestDatabase(url);
  });

  it("db migrate --plan | (sleep 2; cat): every line arrives, exit 0", async () => {
    repo = await makeRepo({ git: false });
    url = await createTestDatabase(null);
    // A long comment at the end of the last migration (applied nowhere): it is part of the last
    // statement, so the plan prints each of its lines.
    const last = readJournal().entries.at(-1)?.tag as string;
    const lines = Array.from({ length: 3000 }, (_, i) => `-- line ${i}: a plan longer than a pipe`);
    appendFileSync(join(repo.dir, "drizzle", `${last}.sql`), `\n${lines.join("\n")}\n-- the end\n`);

    const run = await runProcess(
      "sh",
      [
        "-c",
        '{ "$0" migrate --plan; echo "db exited $?" >&2; } | { sleep 2; cat; }',
        repo.path("scripts/bin/db"),
      ],
      { ...repo.env, DATABASE_URL: url },
    );
    expect(run.stderr).toContain("db exited 0");
    expect(run.stdout.length).toBeGreaterThan(128 * 1024);
    expect(run.stdout).toContain("-- the end");
    // The plan's very last line: the last file's squawk verdict.
    expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(/^ {2}squawk: /);
  });
});
