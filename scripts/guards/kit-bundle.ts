// drizzle-kit's API and the drizzle-orm it imports, bundled once into one CommonJS file for the
// drift rule, and run through V8's code cache (code-cache.ts). Loading them from node_modules
// costs node ≈100 ms more than the same code from a bundle: drizzle-orm is hundreds of small
// modules (its pg, mysql, sqlite and singlestore cores, all imported by drizzle-kit/api), each
// resolved, opened and compiled on its own; and compiling the bundle's ≈3 MB as ES modules cost
// another ≈50 ms per judgement, which the code cache saves (node 20 has no compile cache for ES
// modules). CommonJS because vm.Script, the code cache's one way on node 20 and 22, runs scripts,
// not modules. The bundle is the same code, esbuild's copy of it: made on the first drift
// judgement after an install, in the node_modules/.cache the packages live in, named by the
// versions of drizzle-kit, drizzle-orm and esbuild. Its exports: drizzle-kit/api's and, under
// `orm`, the drizzle-orm entries drizzle-kit/api imports, the very modules it uses: a schema run
// with `bundledRequire` gets those. Where it cannot be written, or a schema imports a part of
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
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Cached, IMPORT_META_URL, type Require, requireCached } from "./code-cache.ts";
import { esbuild } from "./esbuild.ts";
import type { Scratch } from "./scratch.ts";

/** Bumped when what the bundle holds changes. */
const FORMAT = "kata-db drizzle-kit bundle 2";
const FILE = "kit.cjs";

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

/** The bundle's entry: drizzle-kit/api, and the drizzle-orm entries as `orm`. */
const ENTRY = [
  'export * from "drizzle-kit/api";',
  ...ORM_ENTRIES.map((entry, i) => `import * as orm${i} from ${JSON.stringify(entry)};`),
  `export const orm = { ${ORM_ENTRIES.map((entry, i) => `${JSON.stringify(entry)}: orm${i}`).join(", ")} };`,
].join("\n");

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
    if (existsSync(join(dir, FILE))) return dir;
    const { build } = esbuild();
    // Built beside and renamed into place: a concurrent check uses the whole bundle or none; an
    // interrupted build is removed with the scratch folder.
    const staging = `${dir}.${process.pid}.tmp`;
    scratch.alsoRemove(staging);
    const result = await build({
      // Written by this process (see bundleTs in drift-compare.ts): never after an interrupt.
      write: false,
      stdin: { contents: ENTRY, resolveDir: packageRoot, sourcefile: "kit-entry.js" },
      outfile: join(staging, FILE),
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      // drizzle-kit/api's createRequire(import.meta.url): the bundle's own URL (code-cache.ts).
      define: { "import.meta.url": IMPORT_META_URL },
      // A third less to read and hash; and, with no comments left, ASCII (esbuild escapes the
      // rest), which code-cache.ts decodes fastest.
      minifyWhitespace: true,
      legalComments: "none",
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
    return existsSync(join(dir, FILE)) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** What the bundle exports: drizzle-kit/api, and the drizzle-orm modules it was bundled with. */
export type Kit = typeof import("drizzle-kit/api") & { orm: Record<string, unknown> };

/** The bundle in `bundle` (a folder from kitBundle), run with its code cache. */
export const loadKit = (bundle: string): Cached<Kit> => requireCached<Kit>(join(bundle, FILE));

/**
 * The require for a schema bundled as CommonJS beside `from` (a file): drizzle-orm is the kit's
 * (the schema and drizzle-kit share one drizzle-orm), any other package as installed. Undefined
 * when the schema imports a part of drizzle-orm the kit does not hold.
 */
export function bundledRequire(kit: Kit, from: string, imported: string[]): Require | undefined {
  const orm = imported.filter((path) => /^drizzle-orm(?:\/|$)/.test(path));
  if (!orm.every((path) => ORM_ENTRIES.includes(path))) return undefined;
  const installed = createRequire(from);
  return (id) => (ORM_ENTRIES.includes(id) ? kit.orm[id] : installed(id));
}
