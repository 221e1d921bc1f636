// CommonJS bundles run in this process; the drift rule's bundle of drizzle-kit/api through V8's
// code cache: the bytecode V8 compiled on an earlier run, kept
// beside the file, instead of parsing and compiling it again. For the drift rule's bundle of
// drizzle-kit/api (kit-bundle.ts): ≈3 MB that node 20 compiled anew on every judgement (it has no
// compile cache for ES modules; module.enableCompileCache is node ≥ 22.1). vm.Script's cachedData
// is the same mechanism on both, and the cache is made after a run (createCachedData), so it holds
// the functions that run used, not only the top level.
// V8 checks a cache against its own version, flags and CPU features, and against the source's
// length only: the cache file is named by a hash of the file's contents and of
// v8.cachedDataVersionTag(), so a cache made for other contents or another node is never offered.
// One V8 still refuses (cachedDataRejected) is replaced. Written beside and renamed into place: a
// concurrent run reads a whole cache or none; where the folder is read-only, the file runs
// without one.

import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { cachedDataVersionTag } from "node:v8";
import { constants, Script } from "node:vm";

/**
 * The name a bundle's `import.meta.url` is defined as (esbuild's `define`), for a file run here:
 * CommonJS has no import.meta, and the file gets its own URL under this name.
 */
export const IMPORT_META_URL = "__kataImportMetaUrl";

const PARAMETERS = ["exports", "require", "module", "__filename", "__dirname", IMPORT_META_URL];

/** What a CommonJS file calls `require`. */
export type Require = (id: string) => unknown;

/** A script of `source`, node's CommonJS wrapper around it on the file's first line (its line numbers hold). */
const wrapped = (file: string, source: string, cachedData?: Buffer) =>
  new Script(`(function (${PARAMETERS.join(", ")}) {${source}\n})`, {
    filename: file,
    cachedData,
    // Its import() of a package it left outside (drizzle-kit's drivers) as in any module.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });

/** Run a wrapped script as node runs a CommonJS module; its module.exports. */
function run<T>(script: Script, file: string, require: Require): T {
  const module = { exports: {} as T };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn(module.exports, require, module, file, dirname(file), pathToFileURL(file).href);
  return module.exports;
}

/**
 * Run the CommonJS file `file` (UTF-8, with no code cache: it is run once) with `require` for
 * its imports.
 */
export const runCommonJs = <T>(file: string, require: Require): T =>
  run<T>(wrapped(file, readFileSync(file, "utf8")), file, require);

export interface Cached<T> {
  /** The file's module.exports. */
  exports: T;
  /** Whether V8 took its bytecode from the cache. */
  fromCache: boolean;
  /** The cache file this run reads and `save` writes. */
  cacheFile: string;
  /** Keep the bytecode compiled so far, when it did not come from the cache. Never throws. */
  save(): void;
}

/** Run the CommonJS file `file` (as require would) with its code cache, when there is one. */
export function requireCached<T>(file: string): Cached<T> {
  const bytes = readFileSync(file);
  // esbuild writes ASCII (its default charset): then latin1 is the same text, decoded ≈5× faster.
  const source = bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
  const key = createHash("sha256")
    .update(bytes)
    .update(`\0${process.version}\0${cachedDataVersionTag()}`)
    .digest("hex")
    .slice(0, 32);
  const cacheFile = `${file}.${key}.v8cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet (or unreadable): compiled from the source, and saved after the run.
  }
  const script = wrapped(file, source, cachedData);
  const fromCache = cachedData !== undefined && !script.cachedDataRejected;
  return {
    exports: run<T>(script, file, createRequire(file)),
    fromCache,
    cacheFile,
    save() {
      if (fromCache) return;
      const staging = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(staging, script.createCachedData());
        renameSync(staging, cacheFile);
      } catch {
        // A read-only folder (next time without a cache again), or a full disk.
        try {
          rmSync(staging, { force: true });
        } catch {}
      }
    },
  };
}
