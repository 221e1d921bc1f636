// `db up` from nothing takes its cluster from the per-user cache (src/cluster-cache.ts) with the
// URL's database already made in it (scripts/backends/local.ts): the first `db up` leaves two
// entries, initdb's cluster and that one with the database; the next project with the same
// credentials starts from the second, and still gets every migration applied by `db up` itself.

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { db, MIGRATION_TAGS, makeProject, type Project } from "./helpers.ts";

describe("db up from nothing, from the cluster cache", () => {
  // This file's own cache, so what it holds is what these two `db up` made.
  const cacheHome = mkdtempSync(join(tmpdir(), "kata-up-cache-"));
  const clusters = join(cacheHome, "kata-db", "clusters");
  const projects: Project[] = [];
  const run = (project: Project, args: string[]) =>
    db(project.root, args, { env: { XDG_CACHE_HOME: cacheHome } });

  afterAll(async () => {
    for (const project of projects) await run(project, ["down", "--volumes"]);
    rmSync(cacheHome, { recursive: true, force: true });
  });

  it("the first keeps initdb's cluster and one with the database; the next starts from it", async () => {
    const first = await makeProject();
    projects.push(first);
    const up = await run(first, ["up", "--backend", "embedded"]);
    expect(up.code, up.stderr).toBe(0);
    // Databases of each cached cluster (a folder per database under base/): initdb's three
    // (template0, template1, postgres), and those three plus kata.
    const databases = readdirSync(clusters)
      .map((entry) => readdirSync(join(clusters, entry, "base")).length)
      .sort();
    expect(databases).toEqual([3, 4]);

    const second = await makeProject();
    projects.push(second);
    const again = await run(second, ["up", "--backend", "embedded"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`Applied ${MIGRATION_TAGS.length} migrations to kata`);
    expect(readdirSync(clusters)).toHaveLength(2);
    const status = await run(second, ["status"]);
    expect(status.code, status.stderr).toBe(0);
  });
});
