// The drift rule asks drizzle-kit's programmatic API in process; `drizzle-kit generate` as a
// process is the reference. Both must reach the same verdict — no change, the SQL it needs, the
// rename question, or a failure — on every case the guard tests hold (test/guards/*), on the
// tree in place (`db check`) and on one written elsewhere, as `--staged` writes the index.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { byCli, inProcess, type Verdict } from "../../scripts/guards/drift-compare.ts";
import { Scratch } from "../../scripts/guards/scratch.ts";
import type { Context } from "../../scripts/guards/types.ts";
import { copyProject } from "../helpers/project-copy.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const edit = (file: string, change: (text: string) => string) => (dir: string) => {
  const before = readFileSync(join(dir, file), "utf8");
  const after = change(before);
  if (after === before) throw new Error(`edit of ${file} changed nothing`);
  writeFileSync(join(dir, file), after);
};
const identity = "src/schema/identity.ts";
const addColumn = (anchor: string, column: string) =>
  edit(identity, (text) => text.replace(anchor, (line) => `${line}    ${column},\n`));
const journal = (change: (entries: { idx: number; tag: string }[]) => unknown[]) =>
  edit("drizzle/meta/_journal.json", (text) => {
    const parsed = JSON.parse(text);
    parsed.entries = change(parsed.entries);
    return JSON.stringify(parsed, null, 2);
  });

/** Each case of the guard tests, as the tree drizzle-kit sees (the parts the drift rule reads). */
const CASES: [name: string, edit: (dir: string) => void, expected: Verdict["kind"]][] = [
  ["unchanged", () => {}, "same"],
  [
    "a column added (schema.test)",
    addColumn("    slug: text().notNull(),\n", "quota: text()"),
    "changes",
  ],
  [
    "a column added to users",
    addColumn("    email: text().notNull(),\n", "nickname: text()"),
    "changes",
  ],
  [
    "a NOT NULL column added (squawk.test)",
    addColumn("    slug: text().notNull(),\n", "quota: text().notNull()"),
    "changes",
  ],
  [
    "a column renamed (schema.test)",
    edit(identity, (t) =>
      t.replace("slug: text()", "handle: text()").replaceAll("t.slug", "t.handle"),
    ),
    "rename",
  ],
  [
    "a comment and a blank line",
    edit(identity, (t) =>
      t.replace(
        "    slug: text().notNull(),\n",
        "    // Shown in URLs.\n    slug: text().notNull(),\n\n",
      ),
    ),
    "same",
  ],
  [
    "a committed migration edited (history.test)",
    edit("drizzle/0001_tables.sql", (s) => `${s}\n-- fix\n`),
    "same",
  ],
  ["the last migration deleted from the journal", journal((e) => e.slice(0, -1)), "same"],
  [
    "the journal reordered",
    journal(([a, b, ...rest]) => [{ ...b, idx: 0 }, { ...a, idx: 1 }, ...rest]),
    "same",
  ],
  [
    // The drift rule's bundle of drizzle-kit holds drizzle-orm's entries only: this schema runs
    // with the packages as installed (scripts/guards/kit-bundle.ts).
    "a column added, imported from a part of drizzle-orm outside the kit bundle",
    (dir) => {
      addColumn("    slug: text().notNull(),\n", "quota: varchar()")(dir);
      edit(
        identity,
        (t) => `import { varchar } from "drizzle-orm/pg-core/columns/varchar";\n${t}`,
      )(dir);
    },
    "changes",
  ],
  [
    "a table removed",
    edit("src/schema/index.ts", (t) => t.replace(/^export \* from "\.\/api-keys\.ts";\n/m, "")),
    "changes",
  ],
  [
    "a syntax error in src/schema",
    edit(identity, (t) => `${t}\nexport const broken = ;\n`),
    "error",
  ],
  [
    "an unparsable latest snapshot",
    edit("drizzle/meta/0002_snapshot.json", (t) => t.slice(0, 40)),
    "error",
  ],
];

/** A copy of this project with the case applied; the tree is checked in place, or from `elsewhere`. */
function context(apply: (dir: string) => void, elsewhere: boolean): Context {
  const base = mkdtempSync(join(tmpdir(), "kata-drift-compare-"));
  dirs.push(base);
  const packageRoot = join(base, "project");
  copyProject(packageRoot);
  apply(packageRoot);
  const scratch = new Scratch(packageRoot);
  let root = packageRoot;
  if (elsewhere) {
    // What `--staged` does: the guarded paths written to a scratch folder, not the package.
    root = scratch.folder("index");
    for (const path of ["src/schema", "drizzle", "drizzle.config.ts"]) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      cpSync(join(packageRoot, path), join(root, path), { recursive: true });
    }
  }
  return {
    packageRoot,
    root,
    folder: join(root, "drizzle"),
    staged: elsewhere,
    git: undefined,
    touched: true,
    scratch,
  };
}

describe.concurrent("the drift check in process agrees with drizzle-kit generate", () => {
  for (const [name, apply, expected] of CASES) {
    // Written elsewhere too where the paths matter most: in place, every case.
    const variants = [
      "unchanged",
      "a column added (schema.test)",
      "a column renamed (schema.test)",
    ].includes(name)
      ? [false, true]
      : [false];
    for (const elsewhere of variants) {
      it(`${name}${elsewhere ? " (tree written elsewhere, as --staged)" : ""}`, async () => {
        const ctx = context(apply, elsewhere);
        try {
          const [api, cli] = await Promise.all([inProcess(ctx), byCli(ctx)]);
          expect(cli.kind).toBe(expected);
          expect(api?.kind).toBe(cli.kind);
          if (cli.kind === "changes") expect(api).toEqual(cli);
        } finally {
          ctx.scratch.remove();
        }
      }, 60_000);
    }
  }
});
