// `db up` from nothing takes its cluster from the per-user cache (src/cluster-cache.ts) with the
// URL's database already made in it (scripts/backends/local.ts): the first `db up` leaves two
// entries, initdb's cluster and that one with the database, and a spare copy of the second made
// in the background. The next project with the same credentials renames that spare into place
// (the same inode: nothing copied), a new spare is made, and every migration is still applied by
// `db up` itself. Two at once share one spare without harm. Where the cache is on another file
// system than the project, no spare is made: it could never be renamed into place.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { db, MIGRATION_TAGS, makeProject, PACKAGE_ROOT, type Project } from "./helpers.ts";

/** Wait (up to 30 s) for the spare that a `db up` makes in the background. */
async function spareOf(clusters: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const spares = readdirSync(clusters).filter((name) => name.endsWith(".spare"));
    const making = readdirSync(clusters).some((name) => name.includes(".spare.partial-"));
    if (spares.length === 1 && !making) return join(clusters, spares[0] as string);
    if (Date.now() > deadline) throw new Error(`no spare in ${clusters}: ${readdirSync(clusters)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const entriesOf = (clusters: string) =>
  readdirSync(clusters).filter((name) => /^[0-9a-f]{32}$/.test(name));
const clusterOf = (project: Project) => join(project.root, ".data", "postgres");

describe("db up from nothing, from the cluster cache", () => {
  // This file's own cache, so what it holds is what these `db up` made. In the same temporary
  // directory as the projects, so on their file system.
  const cacheHome = mkdtempSync(join(tmpdir(), "kata-up-cache-"));
  const clusters = join(cacheHome, "kata-db", "clusters");
  // And one beside the checkout: on disk, where the projects (in the test run's memory folder)
  // are not.
  const besideCheckout = join(PACKAGE_ROOT, "node_modules", ".cache");
  mkdirSync(besideCheckout, { recursive: true });
  const elsewhere = mkdtempSync(join(besideCheckout, "kata-up-cache-"));
  const sameDevice = statSync(elsewhere).dev === statSync(tmpdir()).dev;
  const projects: Project[] = [];
  const run = (project: Project, args: string[], home = cacheHome) =>
    db(project.root, args, { env: { XDG_CACHE_HOME: home } });
  const up = async (home = cacheHome) => {
    const project = await makeProject();
    projects.push(project);
    const result = await run(project, ["up", "--backend", "embedded"], home);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Applied ${MIGRATION_TAGS.length} migrations to kata`);
    return project;
  };

  afterAll(async () => {
    for (const project of projects) await run(project, ["down", "--volumes"]);
    for (const dir of [cacheHome, elsewhere]) rmSync(dir, { recursive: true, force: true });
  });

  it("the first keeps initdb's cluster, one with the database and its spare", async () => {
    await up();
    // Databases of each cached cluster (a folder per database under base/): initdb's three
    // (template0, template1, postgres), and those three plus kata.
    const databases = entriesOf(clusters)
      .map((entry) => readdirSync(join(clusters, entry, "base")).length)
      .sort();
    expect(databases).toEqual([3, 4]);
    const spare = await spareOf(clusters);
    expect(readdirSync(join(spare, "base"))).toHaveLength(4);
    expect(statSync(spare).mode & 0o777).toBe(0o700);
  });

  it("the next takes the spare by a rename, and a new spare is made", async () => {
    const spare = await spareOf(clusters);
    const taken = statSync(spare).ino;
    const second = await up();
    expect(statSync(clusterOf(second)).ino).toBe(taken);
    expect(statSync(clusterOf(second)).mode & 0o777).toBe(0o700);
    expect(entriesOf(clusters)).toHaveLength(2);
    const status = await run(second, ["status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(statSync(await spareOf(clusters)).ino).not.toBe(taken);
  });

  it("two at once with one spare: one takes it, the other copies, both run", async () => {
    const taken = statSync(await spareOf(clusters)).ino;
    const both = await Promise.all([up(), up()]);
    expect(both.filter((project) => statSync(clusterOf(project)).ino === taken)).toHaveLength(1);
    for (const project of both) {
      const status = await run(project, ["status"]);
      expect(status.code, status.stderr).toBe(0);
    }
    await spareOf(clusters);
  });

  it.skipIf(sameDevice)("no spare where the cache is on another file system", async () => {
    await up(elsewhere);
    const cache = join(elsewhere, "kata-db", "clusters");
    expect(entriesOf(cache)).toHaveLength(2);
    // The staging directory is made before the copy starts, so none now means none was begun.
    expect(readdirSync(cache).filter((name) => name.includes(".spare"))).toEqual([]);
  });
});
