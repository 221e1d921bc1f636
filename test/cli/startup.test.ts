// The light start-up of `db` (issue #21): the bundle's entry and the chunks it imports statically
// hold none of the heavy packages, so `db --help`, a usage error and a bad .env are answered
// without parsing them (bench/warm.ts times it against `node -e 0`; no timing is asserted here).
// What each answer says is tested in errors.test.ts.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { APP_ROLE } from "../../scripts/commands/table.ts";
import { DEFAULT_APP_ROLE } from "../../src/roles.ts";

/** The files node parses before the entry runs: the entry and its static imports, transitively. */
function staticClosure(entry: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    const text = readFileSync(file, "utf8");
    files.set(file, text);
    // Static imports only (`import … from "./x.mjs"`, `import "./x.mjs"`), not import("./x.mjs").
    for (const [, path] of text.matchAll(
      /^(?:import|export)\b[^;(]*?["'](\.{1,2}\/[^"']+)["']/gm,
    )) {
      visit(join(dirname(file), path as string));
    }
  };
  visit(entry);
  return files;
}

describe("start-up", () => {
  it("the entry chunk and its static imports hold no package but node's own", () => {
    const closure = staticClosure(inject("cliBundle"));
    // esbuild marks each bundled module with a comment naming its path.
    const packages = [...closure.values()].flatMap((text) => [
      ...text.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm),
    ]);
    expect(packages.map((m) => m[1])).toEqual([]);
    const modules = [...closure.values()].flatMap((text) =>
      [...text.matchAll(/^\/\/ ((?:scripts|src)\/\S+)$/gm)].map((m) => m[1]),
    );
    // The frame, the configuration, the table and the flag checks: nothing that runs a command.
    expect(modules).toContain("scripts/commands/table.ts");
    expect(
      modules.filter(
        (m) =>
          !/^scripts\/(db|cli\/\w+|commands\/(table|flags)|basics\/env)\.ts$/.test(m as string),
      ),
    ).toEqual([]);
  });

  it("only db seed and db reset reach src/schema: scripts/bin/db runs the others from a bundle of another schema", () => {
    const dir = dirname(inject("cliBundle"));
    const chunks = new Map<string, string>([["db.mjs", readFileSync(inject("cliBundle"), "utf8")]]);
    for (const name of readdirSync(join(dir, "chunks"))) {
      chunks.set(`chunks/${name}`, readFileSync(join(dir, "chunks", name), "utf8"));
    }
    // Who imports whom, statically or by import(), as paths relative to the bundle's folder.
    const importers = new Map<string, string[]>();
    for (const [file, text] of chunks) {
      for (const [, path] of text.matchAll(
        /(?:from\s*|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g,
      )) {
        const target = join(dirname(file), path as string);
        importers.set(target, [...(importers.get(target) ?? []), file]);
      }
    }
    const holdsSchema = [...chunks].filter(([, text]) => /^\/\/ src\/schema\//m.test(text));
    expect(holdsSchema.length).toBeGreaterThan(0);
    // Every chunk from which a chunk holding the schema can be reached, and its commands.
    const reaching = new Set<string>();
    const visit = (file: string) => {
      if (reaching.has(file)) return;
      reaching.add(file);
      for (const importer of importers.get(file) ?? []) visit(importer);
    };
    for (const [file] of holdsSchema) visit(file);
    // The entry's table reaches every command by import(): the commands are what it reaches.
    reaching.delete("db.mjs");
    const commands = [...reaching].flatMap((file) =>
      [...(chunks.get(file) ?? "").matchAll(/^\/\/ scripts\/commands\/([\w-]+)\.ts$/gm)].map(
        (m) => m[1],
      ),
    );
    expect(new Set(commands)).toEqual(new Set(["seed", "reset"]));
  });

  it("the table's default app role is src/roles.ts's", () => {
    expect(APP_ROLE).toBe(DEFAULT_APP_ROLE);
  });
});
