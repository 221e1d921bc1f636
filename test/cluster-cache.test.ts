// Clusters copied from a cached, already initialised one (src/cluster-cache.ts): two
// processes' worth of concurrent first builds leave one entry and no half-made one; a copy is a
// working cluster whose superuser has the password asked for; another password is another
// entry; KATA_DB_CLUSTER_CACHE=0 runs initdb and caches nothing. Real servers, as root too.

import {
  appendFileSync,
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { recipeKey } from "../src/cluster-cache.ts";
import {
  embeddedBinaries,
  initCluster,
  makeServerDir,
  startCluster,
  stopCluster,
} from "../src/postgres-cluster.ts";
import { memoryDir } from "../src/testing/server.ts";
import { testPort } from "./helpers/ports.ts";

// In memory where there is a tmpfs, like the test server: what is tested is the cache, not the disk.
const root = mkdtempSync(join(memoryDir(), "kata-cluster-cache-"));
// As root the server runs as `postgres`, which must reach the clusters in here.
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));
// This file's own cache (each test file runs in a process of its own).
process.env.XDG_CACHE_HOME = join(root, "cache");
const entries = () => readdirSync(join(root, "cache", "kata-db", "clusters"));

let n = 0;
const dataDir = () => {
  const dir = join(root, `cluster-${++n}`);
  makeServerDir(dir);
  return join(dir, "data");
};

/** Start the cluster, connect with `password`, and return what the server says (or its error). */
async function answers(dir: string, password: string): Promise<string> {
  const bin = await embeddedBinaries();
  const port = await testPort();
  await startCluster({ bin, dataDir: dir, port });
  const sql = postgres(`postgres://kata:${password}@127.0.0.1:${port}/postgres`, {
    max: 1,
    onnotice: () => {},
    connect_timeout: 10,
  });
  try {
    const [row] = await sql`SELECT current_user AS who`;
    return String(row?.who);
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await sql.end();
    await stopCluster({ bin, dataDir: dir, mode: "immediate" });
  }
}

/**
 * The same build copied elsewhere (`binDir` its initdb and postgres, `catalog` its postgres.bki):
 * the same cache key as the original; once its bootstrap catalog differs, another one.
 */
function expectKeyedByContent(
  bin: { initdb: string; postgres: string },
  binDir: string,
  catalog: string,
): void {
  const recipe = {
    initdb: bin.initdb,
    postgres: bin.postgres,
    version: "postgres (PostgreSQL) 18",
    args: ["--locale=C"],
    superuser: "kata",
    password: "one",
    owner: 0,
  };
  const copied = { ...recipe, initdb: join(binDir, "initdb"), postgres: join(binDir, "postgres") };
  expect(recipeKey(copied)).toBe(recipeKey(recipe));
  appendFileSync(join(catalog, "postgres.bki"), "\n");
  expect(recipeKey(copied)).not.toBe(recipeKey(recipe));
}

describe("throwaway clusters from the cache", () => {
  it("concurrent first builds: both work, one entry, nothing half-made; then copies", async () => {
    const bin = await embeddedBinaries();
    const [a, b] = [dataDir(), dataDir()];
    const made = await Promise.all(
      [a, b].map((dir) => initCluster({ bin, dataDir: dir, superuser: "kata", password: "one" })),
    );
    expect(made).toEqual(["initialised", "initialised"]);
    expect(entries()).toHaveLength(1);

    const c = dataDir();
    expect(await initCluster({ bin, dataDir: c, superuser: "kata", password: "one" })).toBe(
      "copied",
    );
    expect(await answers(c, "one")).toBe("kata");
    expect(await answers(c, "wrong")).toBe("28P01");
    expect(await answers(a, "one")).toBe("kata");
  }, 120_000);

  it("the same build unpacked again elsewhere (a fresh clone's npm ci): a copy, not initdb", async () => {
    const bin = await embeddedBinaries();
    await initCluster({ bin, dataDir: dataDir(), superuser: "kata", password: "one" });
    // Another prefix with the same files, every one with a new time, as `npm ci` leaves them.
    const prefix = dirname(dirname(realpathSync(bin.initdb)));
    const elsewhere = join(root, "another-clone", "native");
    cpSync(prefix, elsewhere, { recursive: true, verbatimSymlinks: true });
    const later = new Date(Date.now() + 60_000);
    for (const file of ["initdb", "postgres", "pg_ctl"])
      utimesSync(join(elsewhere, "bin", file), later, later);
    const moved = {
      ...bin,
      initdb: join(elsewhere, "bin", "initdb"),
      pgCtl: join(elsewhere, "bin", "pg_ctl"),
      postgres: join(elsewhere, "bin", "postgres"),
    };
    const copy = dataDir();
    expect(
      await initCluster({ bin: moved, dataDir: copy, superuser: "kata", password: "one" }),
    ).toBe("copied");
    expect(await answers(copy, "one")).toBe("kata");
  }, 120_000);

  it("another build (another bootstrap catalog) is another key", async () => {
    const bin = await embeddedBinaries();
    const prefix = dirname(dirname(realpathSync(bin.initdb)));
    const other = join(root, "other-build", "native");
    cpSync(prefix, other, { recursive: true, verbatimSymlinks: true });
    expectKeyedByContent(bin, join(other, "bin"), join(other, "share", "postgresql"));
  });

  it("Debian's layout (bin/ in /usr/lib/postgresql/<major>, the catalog in /usr/share/postgresql/<major>): the same build, the same key", async () => {
    const bin = await embeddedBinaries();
    const prefix = dirname(dirname(realpathSync(bin.initdb)));
    const usr = join(root, "debian-usr");
    const lib = join(usr, "lib", "postgresql", "18");
    cpSync(join(prefix, "bin"), join(lib, "bin"), { recursive: true, verbatimSymlinks: true });
    cpSync(join(prefix, "share", "postgresql"), join(usr, "share", "postgresql", "18"), {
      recursive: true,
    });
    expectKeyedByContent(bin, join(lib, "bin"), join(usr, "share", "postgresql", "18"));
  });

  it("another password is another entry, and only it opens the copy", async () => {
    const bin = await embeddedBinaries();
    await initCluster({ bin, dataDir: dataDir(), superuser: "kata", password: "two" });
    const copy = dataDir();
    expect(await initCluster({ bin, dataDir: copy, superuser: "kata", password: "two" })).toBe(
      "copied",
    );
    expect(await answers(copy, "two")).toBe("kata");
    expect(await answers(copy, "one")).toBe("28P01");
    expect(entries().filter((e) => !e.includes(".partial-"))).toEqual(entries());
  }, 120_000);

  it("storing an entry keeps the 12 most recently used, none unused for 30 days", async () => {
    const home = join(root, "pruned");
    const cache = join(home, "kata-db", "clusters");
    mkdirSync(cache, { recursive: true });
    const DAY = 24 * 3600 * 1000;
    const hex = (n: number) => n.toString(16).padStart(32, "0");
    /** A stand-in entry (what prune() looks at: the name and when it was last used). */
    const entry = (name: string, daysAgo: number) => {
      const path = join(cache, name);
      mkdirSync(path);
      writeFileSync(join(path, "PG_VERSION"), "18\n");
      const used = new Date(Date.now() - daysAgo * DAY);
      utimesSync(path, used, used);
      return name;
    };
    const recent = Array.from({ length: 14 }, (_, i) => entry(hex(i + 1), i + 1));
    entry(hex(99), 40);
    entry(`${hex(98)}.partial-abc`, 2);
    entry("not-ours", 400);
    // Spares (`db up`'s ready copies) of the most recently used, of one pruned now, of none.
    const spares = [hex(1), hex(14), hex(77)].map((key) => entry(`${key}.spare`, 0));

    const bin = await embeddedBinaries();
    process.env.XDG_CACHE_HOME = home;
    try {
      await initCluster({ bin, dataDir: dataDir(), superuser: "kata", password: "four" });
    } finally {
      process.env.XDG_CACHE_HOME = join(root, "cache");
    }
    const left = readdirSync(cache).sort();
    // The new entry and the 11 most recently used stand-ins, with the spare of the first; the
    // 40-day-old one, the half-made one of a day ago, the three used longest ago and the spares
    // of entries gone are gone; what is not an entry is left.
    const made = left.filter(
      (name) => !recent.includes(name) && !spares.includes(name) && name !== "not-ours",
    );
    expect(made).toHaveLength(1);
    expect(left).toEqual([...recent.slice(0, 11), spares[0], ...made, "not-ours"].sort());
  }, 120_000);

  it("KATA_DB_CLUSTER_CACHE=0: initdb, nothing cached", async () => {
    const bin = await embeddedBinaries();
    const before = entries().length;
    process.env.KATA_DB_CLUSTER_CACHE = "0";
    try {
      const dir = dataDir();
      expect(await initCluster({ bin, dataDir: dir, superuser: "kata", password: "three" })).toBe(
        "initialised",
      );
      expect(await answers(dir, "three")).toBe("kata");
    } finally {
      delete process.env.KATA_DB_CLUSTER_CACHE;
    }
    expect(entries()).toHaveLength(before);
  }, 120_000);
});
