// The drift verdict is remembered only for exactly the same inputs: a changed schema file, a new
// file an import could resolve to, another latest snapshot or a changed tsconfig.json make the
// rule ask drizzle-kit again; the same files written elsewhere (as `--staged` writes the index)
// reuse it; a failure is never remembered.

import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DriftCache } from "../../scripts/guards/drift-cache.ts";
import { inProcessWithInputs, latestSnapshot } from "../../scripts/guards/drift-compare.ts";
import { Scratch } from "../../scripts/guards/scratch.ts";
import type { Context } from "../../scripts/guards/types.ts";
import { copyProject } from "../helpers/project-copy.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const base = mkdtempSync(join(tmpdir(), "kata-drift-cache-"));
  dirs.push(base);
  const root = join(base, "project");
  copyProject(root);
  // A lockfile of its own: this project's records never meet another test's.
  appendFileSync(join(root, "package-lock.json"), `\n${base}\n`);
  return root;
}

function context(packageRoot: string, root = packageRoot): Context {
  return {
    packageRoot,
    root,
    folder: join(root, "drizzle"),
    staged: root !== packageRoot,
    git: undefined,
    touched: true,
    scratch: new Scratch(packageRoot),
  };
}

/** Judge the tree with drizzle-kit and remember the verdict, as the drift rule does. */
async function judgeAndStore(ctx: Context) {
  const judged = await inProcessWithInputs(ctx);
  if (!judged) throw new Error("the in-process drift check cannot read this config");
  DriftCache.open(ctx, latestSnapshot(ctx))?.store(judged.inputs, judged.verdict);
  return judged.verdict;
}

const lookup = (ctx: Context) => DriftCache.open(ctx, latestSnapshot(ctx))?.lookup();

describe.concurrent("the remembered drift verdict", () => {
  it("is reused for the same files, also written elsewhere, and for nothing else", async () => {
    const root = project();
    const ctx = context(root);
    try {
      expect(lookup(ctx)).toBeUndefined();
      expect(await judgeAndStore(ctx)).toEqual({ kind: "same" });
      expect(lookup(ctx)).toEqual({ kind: "same" });

      // The same files in a scratch folder, as `db check --staged` writes the index.
      const index = ctx.scratch.folder("index");
      for (const path of ["src/schema", "drizzle", "drizzle.config.ts"]) {
        mkdirSync(join(index, path, ".."), { recursive: true });
        cpSync(join(root, path), join(index, path), { recursive: true });
      }
      expect(lookup(context(root, index))).toEqual({ kind: "same" });

      const identity = join(root, "src/schema/identity.ts");
      appendFileSync(identity, "// a comment\n");
      expect(lookup(ctx)).toBeUndefined();
      expect(await judgeAndStore(ctx)).toEqual({ kind: "same" });
      expect(lookup(ctx)).toEqual({ kind: "same" });

      // A file an import could now resolve to.
      writeFileSync(join(root, "src/schema/columns.js"), "export {};\n");
      expect(lookup(ctx)).toBeUndefined();
      rmSync(join(root, "src/schema/columns.js"));
      expect(lookup(ctx)).toEqual({ kind: "same" });

      // Settings esbuild reads.
      appendFileSync(join(root, "tsconfig.json"), "\n");
      expect(lookup(ctx)).toBeUndefined();
    } finally {
      ctx.scratch.remove();
    }
  }, 60_000);

  it("keeps a change's verdict apart, and forgets nothing it did not see", async () => {
    const root = project();
    const ctx = context(root);
    try {
      expect(await judgeAndStore(ctx)).toEqual({ kind: "same" });
      const identity = join(root, "src/schema/identity.ts");
      const original = readFileSync(identity, "utf8");
      writeFileSync(
        identity,
        original.replace(
          "    slug: text().notNull(),\n",
          "    slug: text().notNull(),\n    q: text(),\n",
        ),
      );
      expect(lookup(ctx)).toBeUndefined();
      const changed = await judgeAndStore(ctx);
      expect(changed.kind).toBe("changes");
      expect(lookup(ctx)).toEqual(changed);
      writeFileSync(identity, original);
      expect(lookup(ctx)).toEqual({ kind: "same" });

      // Another latest snapshot: nothing remembered for it.
      appendFileSync(join(root, "drizzle/meta/0002_snapshot.json"), "\n");
      expect(lookup(ctx)).toBeUndefined();
    } finally {
      ctx.scratch.remove();
    }
  }, 60_000);

  it("never remembers a failure", async () => {
    const root = project();
    const ctx = context(root);
    try {
      appendFileSync(join(root, "src/schema/identity.ts"), "export const broken = ;\n");
      expect((await judgeAndStore(ctx)).kind).toBe("error");
      expect(lookup(ctx)).toBeUndefined();
    } finally {
      ctx.scratch.remove();
    }
  }, 60_000);
});
