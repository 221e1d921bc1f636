// CommonJS run through V8's code cache (scripts/guards/code-cache.ts), which the drift rule's
// drizzle-kit bundle is: a cache is only ever used for the contents and the node it was made
// for, a broken one is replaced, and without a writable folder the file still runs. Each run is
// a node process of its own, as each `db check` is: within one, V8 reuses what it compiled
// already and never looks at the cache.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../helpers/project-copy.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), "kata-code-cache-"));
  dirs.push(dir);
  return dir;
};

/** A module whose answer is twice `n`: the same length for every digit. */
const source = (n: number) =>
  `const twice = (n) => n * 2;\nmodule.exports = { answer: twice(${n}), url: __kataImportMetaUrl };\n`;

interface Run {
  answer: number;
  url: string;
  fromCache: boolean;
  cacheFile: string;
}

/** requireCached(file) in a new node process; then save() too, when asked. */
function run(file: string, save = true): Run {
  const module = pathToFileURL(join(PACKAGE_ROOT, "scripts/guards/code-cache.ts")).href;
  const code = `
    const { requireCached } = await import(${JSON.stringify(module)});
    const run = requireCached(${JSON.stringify(file)});
    if (${save}) run.save();
    console.log(JSON.stringify({ ...run.exports, fromCache: run.fromCache, cacheFile: run.cacheFile }));`;
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "--eval", code],
    { cwd: PACKAGE_ROOT, encoding: "utf8" },
  );
  return JSON.parse(out);
}

describe.concurrent("a file run through its code cache", () => {
  it("is compiled on the first run, and from the cache saved then on the next", () => {
    const file = join(folder(), "bundle.cjs");
    writeFileSync(file, source(1));
    const first = run(file);
    expect(first).toMatchObject({ answer: 2, url: pathToFileURL(file).href, fromCache: false });
    expect(run(file)).toMatchObject({ answer: 2, fromCache: true });
  });

  it("never uses a cache made for other contents, even of the same length", () => {
    const file = join(folder(), "bundle.cjs");
    writeFileSync(file, source(1));
    const made = run(file);
    // Another bundle in its place. V8 checks a cache against the source's length only: offered
    // the old cache, it would run the old bytecode and answer 2.
    writeFileSync(file, source(4));
    expect(source(4).length).toBe(source(1).length);
    const other = run(file);
    expect(other).toMatchObject({ answer: 8, fromCache: false });
    expect(other.cacheFile).not.toBe(made.cacheFile);
    expect(run(file)).toMatchObject({ answer: 8, fromCache: true });
  });

  it("replaces a cache V8 rejects, and gives the right result meanwhile", () => {
    const file = join(folder(), "bundle.cjs");
    writeFileSync(file, source(3));
    const { cacheFile } = run(file);
    writeFileSync(cacheFile, "not V8's bytecode");
    expect(run(file)).toMatchObject({ answer: 6, fromCache: false });
    expect(run(file)).toMatchObject({ answer: 6, fromCache: true });
  });

  it("runs without a cache where it cannot write one, leaving nothing behind", () => {
    const dir = folder();
    const file = join(dir, "bundle.cjs");
    writeFileSync(file, source(2));
    // The cache's name taken by a folder holding a file: it can be neither read nor replaced (a
    // read-only folder, for root too, who may write to any).
    const { cacheFile } = run(file, false);
    mkdirSync(cacheFile);
    writeFileSync(join(cacheFile, "taken"), "");
    expect(run(file)).toMatchObject({ answer: 4, fromCache: false });
    expect(run(file)).toMatchObject({ answer: 4, fromCache: false });
    expect(readdirSync(dir).sort()).toEqual(["bundle.cjs", basename(cacheFile)]);
  });
});
