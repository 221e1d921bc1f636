// drizzle-kit's API and the drizzle-orm it imports, bundled once into a few ES modules for the
// drift rule. Loading them from node_modules costs node ≈100 ms more than the same code from a
// bundle: drizzle-orm is hundreds of small modules (its pg, mysql, sqlite and singlestore cores,
// all imported by drizzle-kit/api), each resolved, opened and compiled on its own. The bundle is
// the same code, esbuild's copy of it: made on the first drift judgement after an install, in
// the node_modules/.cache the packages live in, named by the versions of drizzle-kit,
// drizzle-orm and esbuild. Where it cannot be written, or a schema imports a part of
// drizzle-orm it does not hold, the packages are loaded as they are (both paths must agree:
// test/guards/drift-compare.test.ts judges every case both ways).

import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { esbuild } from "./esbuild.ts";
import type { Scratch } from "./scratch.ts";

/** Bumped when what the bundle holds changes. */
const FORMAT = "kata-db drizzle-kit bundle 1";

/** The parts of drizzle-orm drizzle-kit/api imports; a schema may import these from the bundle. */
export const ORM_ENTRIES = [
  "drizzle-orm",
  "drizzle-orm/pg-core",
  "drizzle-orm/mysql-core",
  "drizzle-orm/sqlite-core",
  "drizzle-orm/singlestore-core",
  "drizzle-orm/relations",
  "drizzle-orm/casing",
];
const fileOf = (entry: string) => `${entry.replace("/", "_")}.mjs`;

/**
 * The bundle's folder for the installed versions, made when missing; undefined where it cannot
 * be (no drizzle-kit, a read-only node_modules).
 */
export async function kitBundle(
  packageRoot: string,
  /** This run's scratch space: it removes a build left half done (interrupted). */
  scratch: Scratch,
): Promise<string | undefined> {
  try {
    const modules = dirname(realpathSync(join(packageRoot, "node_modules", "drizzle-kit")));
    const key = createHash("sha256")
      .update(FORMAT)
      .update(readFileSync(join(modules, "drizzle-kit", "package.json")))
      .update(readFileSync(join(modules, "drizzle-orm", "package.json")))
      .update(readFileSync(join(modules, "esbuild", "package.json")))
      .digest("hex")
      .slice(0, 32);
    const dir = join(modules, ".cache", "kata-db", "drizzle-kit", key);
    if (existsSync(join(dir, "api.mjs"))) return dir;
    const { build } = esbuild();
    // Built beside and renamed into place: a concurrent check uses the whole bundle or none; an
    // interrupted build is removed with the scratch folder.
    const staging = `${dir}.${process.pid}.tmp`;
    scratch.alsoRemove(staging);
    const result = await build({
      // Written by this process (see bundleTs in drift-compare.ts): never after an interrupt.
      write: false,
      entryPoints: {
        api: "drizzle-kit/api",
        ...Object.fromEntries(ORM_ENTRIES.map((e) => [fileOf(e).slice(0, -4), e])),
      },
      absWorkingDir: packageRoot,
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      splitting: true,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      plugins: [
        {
          // Only drizzle-kit/api and drizzle-orm: the drivers drizzle-kit imports on demand
          // (for push, studio) stay packages, loaded from node_modules if ever.
          name: "only-drizzle",
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (args) =>
              /^(?:drizzle-kit\/api|drizzle-orm)(?:\/|$)/.test(args.path)
                ? undefined
                : { path: args.path, external: true },
            );
          },
        },
      ],
    });
    for (const file of result.outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.contents);
    }
    mkdirSync(dirname(dir), { recursive: true });
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another check made it meanwhile
    }
    return existsSync(join(dir, "api.mjs")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** drizzle-kit/api from the bundle. */
export const kitApiUrl = (bundle: string) => pathToFileURL(join(bundle, "api.mjs")).href;

/**
 * Make `drizzle-orm` in modules bundled into `dir` (the drift rule's scratch folder) resolve to
 * the bundle's: a package of re-exports in `dir/node_modules`, so the schema and drizzle-kit
 * share one drizzle-orm. False when the schema imports a part the bundle does not hold.
 */
export function useBundledOrm(dir: string, bundle: string, imported: string[]): boolean {
  const orm = imported.filter((path) => /^drizzle-orm(?:\/|$)/.test(path));
  if (!orm.every((path) => ORM_ENTRIES.includes(path))) return false;
  const pkg = join(dir, "node_modules", "drizzle-orm");
  mkdirSync(pkg, { recursive: true });
  const exports: Record<string, string> = {};
  for (const entry of ORM_ENTRIES) {
    exports[`.${entry.slice("drizzle-orm".length)}`] = `./${fileOf(entry)}`;
    const target = pathToFileURL(join(bundle, fileOf(entry))).href;
    writeFileSync(join(pkg, fileOf(entry)), `export * from ${JSON.stringify(target)};\n`);
  }
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({ name: "drizzle-orm", type: "module", exports }),
  );
  return true;
}
