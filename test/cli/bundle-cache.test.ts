// scripts/bin/db keeps one bundle of the CLI per state of the sources, in the node_modules cache
// the packages live in, and each build cleans up old ones. A schema edit alone makes none, but
// for the two commands that hold the schema. A bundle run lately is never cleaned up:
// a command loads its chunks while it runs, and a test run once lost, that way, the bundle its
// previous run had made and it was using. Real builds, in a copy of this checkout.

import { execFileSync, spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { expect, it } from "vitest";
import { atFileEnd } from "../helpers/file-end.ts";
import { copyProject, PACKAGE_ROOT } from "../helpers/project-copy.ts";

const BUNDLES = join(
  dirname(realpathSync(join(PACKAGE_ROOT, "node_modules", "esbuild"))),
  ".cache",
  "kata-db",
  "cli",
);

/** A stand-in for an old bundle: made (and, with `used`, last run) that many days ago. */
function oldBundle(name: string, madeDaysAgo: number, usedDaysAgo?: number): string {
  const dir = join(BUNDLES, name);
  mkdirSync(dir, { recursive: true });
  atFileEnd(() => rmSync(dir, { recursive: true, force: true }));
  const ago = (days: number) => new Date(Date.now() - days * 86_400_000);
  writeFileSync(join(dir, "db.mjs"), "");
  if (usedDaysAgo !== undefined) {
    writeFileSync(join(dir, "used"), "");
    utimesSync(join(dir, "used"), ago(usedDaysAgo), ago(usedDaysAgo));
  }
  utimesSync(dir, ago(madeDaysAgo), ago(madeDaysAgo));
  return dir;
}

/** A copy of this checkout, removed after the file, and where its wrapper notes its bundle's hashes. */
function projectCopy(): { project: string; note: string } {
  const project = mkdtempSync(join(tmpdir(), "kata-bundle-cache-"));
  atFileEnd(() => rmSync(project, { recursive: true, force: true }));
  copyProject(project);
  const note = join(
    project,
    "node_modules",
    ".cache",
    "kata-db",
    `${project.replaceAll("/", "_")}.key`,
  );
  return { project, note };
}

it("a build removes bundles neither made nor run in the last week, and stamps the one it runs", () => {
  const { project, note } = projectCopy();
  const id = `test-${process.pid}-${Date.now()}`;
  const forgotten = oldBundle(`${id}-forgotten`, 30);
  const runLately = oldBundle(`${id}-run-lately`, 30, 0);
  const runLongAgo = oldBundle(`${id}-run-long-ago`, 30, 9);

  // Sources no bundle was made of: this call builds one, and cleans up.
  appendFileSync(join(project, "scripts", "db.ts"), `\n// ${id}\n`);
  execFileSync(join(project, "scripts", "bin", "db"), ["--help"], { stdio: "pipe" });
  const key = readFileSync(note, "utf8").trim().replace(" ", "."); // the bundle's folder: the hash of the code, then of src/schema
  atFileEnd(() => rmSync(join(BUNDLES, key), { recursive: true, force: true }));

  expect(existsSync(forgotten)).toBe(false);
  expect(existsSync(runLongAgo)).toBe(false);
  expect(existsSync(runLately)).toBe(true);
  expect(Date.now() - statSync(join(BUNDLES, key, "used")).mtimeMs).toBeLessThan(60_000);
});

it("after a src/schema edit, commands run the bundle they ran before; db seed and db reset get one of the new schema", () => {
  const { project, note } = projectCopy();
  const db = (...args: string[]) =>
    spawnSync(join(project, "scripts", "bin", "db"), args, {
      encoding: "utf8",
      // No .env and no DATABASE_URL: db seed ends at once, after the wrapper chose its bundle.
      env: { ...process.env, KATA_DB_ROOT: project, DATABASE_URL: "" },
    });
  const bundle = () => join(BUNDLES, readFileSync(note, "utf8").trim().replace(" ", "."));
  // Code of its own (no other run has a bundle of it), so the bundles below are this test's.
  appendFileSync(join(project, "scripts", "db.ts"), `\n// ${process.pid}-${Date.now()}\n`);
  expect(db("--help").status).toBe(0);
  const before = bundle();
  atFileEnd(() => rmSync(before, { recursive: true, force: true }));
  expect(existsSync(join(before, "db.mjs"))).toBe(true);

  appendFileSync(join(project, "src", "schema", "identity.ts"), "\n// an edit\n");
  const status = db("status");
  expect(status.stderr).toMatch(/DATABASE_URL is not set/);
  const after = bundle();
  atFileEnd(() => rmSync(after, { recursive: true, force: true }));
  expect(after).not.toBe(before); // the note has the new schema's hash…
  expect(existsSync(after)).toBe(false); // …and no bundle was made of it: status ran `before`
  // Only the schema's hash was taken again: both are what hashing everything anew gives.
  rmSync(note);
  expect(db("status").status).toBe(1);
  expect(bundle()).toBe(after);

  expect(db("seed").stderr).toMatch(/DATABASE_URL is not set/);
  expect(existsSync(join(after, "db.mjs"))).toBe(true);
});

it("a source added with an old time (as cp -p, mv or tar leave it) still makes a new bundle", () => {
  const { project, note } = projectCopy();
  const help = () =>
    execFileSync(join(project, "scripts", "bin", "db"), ["--help"], { stdio: "pipe" });
  appendFileSync(join(project, "scripts", "db.ts"), `\n// ${process.pid}-${Date.now()}\n`);
  help();
  const before = readFileSync(note, "utf8");
  atFileEnd(() =>
    rmSync(join(BUNDLES, before.trim().replace(" ", ".")), { recursive: true, force: true }),
  );

  const added = join(project, "scripts", "cli", "added.ts");
  writeFileSync(added, "export const added = 1;\n");
  const longAgo = new Date(Date.now() - 86_400_000);
  utimesSync(added, longAgo, longAgo);
  help();
  const after = readFileSync(note, "utf8");
  atFileEnd(() =>
    rmSync(join(BUNDLES, after.trim().replace(" ", ".")), { recursive: true, force: true }),
  );
  expect(after.split(" ")[0]).not.toBe(before.split(" ")[0]);
});

// KATA_BUNDLE_NOTE_RUNS=<n> runs more sequences (by hand: e.g. 40).
const NOTE_RUNS = Number(process.env.KATA_BUNDLE_NOTE_RUNS) || 4;

it(
  "over any sequence of edits, adds, removals, renames and touches, the noted hashes are those of hashing anew",
  async () => {
    const { project, note } = projectCopy();
    const help = () =>
      execFileSync(join(project, "scripts", "bin", "db"), ["--help"], { stdio: "pipe" });
    const noted = () => readFileSync(note, "utf8").trim();
    const made = new Set<string>();
    atFileEnd(() => {
      for (const key of made)
        rmSync(join(BUNDLES, key.replace(" ", ".")), { recursive: true, force: true });
    });
    // Code of its own, so the bundles this test makes are its own.
    appendFileSync(join(project, "scripts", "db.ts"), `\n// ${process.pid}-${Date.now()}\n`);
    help();
    made.add(noted());

    const folders = {
      code: join(project, "scripts", "cli"),
      schema: join(project, "src", "schema"),
    };
    const existing = {
      code: join(folders.code, "colour.ts"),
      schema: join(folders.schema, "identity.ts"),
    };
    const longAgo = () => new Date(Date.now() - 86_400_000);
    let serial = 0;
    const added: string[] = [];
    type Op = { kind: "edit" | "add" | "touch" | "remove" | "rename"; where: "code" | "schema" };
    const apply = ({ kind, where }: Op) => {
      const last = added.findLast((file) => file.startsWith(folders[where]));
      if (kind === "edit") appendFileSync(existing[where], `// edit ${serial++}\n`);
      if (kind === "touch") utimesSync(existing[where], new Date(), new Date());
      if (kind === "add") {
        // An old time, as cp -p, mv or tar leave it: only its folder's time is new.
        const file = join(folders[where], `added-${serial++}.ts`);
        writeFileSync(file, `export const added${serial} = ${serial};\n`);
        utimesSync(file, longAgo(), longAgo());
        added.push(file);
      }
      if (kind === "remove" && last) {
        rmSync(last);
        added.splice(added.indexOf(last), 1);
      }
      if (kind === "rename" && last) {
        const to = join(folders[where], `renamed-${serial++}.ts`);
        renameSync(last, to);
        added[added.indexOf(last)] = to;
      }
    };
    const op = fc.record({
      kind: fc.constantFrom("edit", "add", "touch", "remove", "rename"),
      where: fc.constantFrom("code", "schema"),
    }) as fc.Arbitrary<Op>;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 4 }), async (ops) => {
        for (const step of ops) {
          apply(step);
          help();
          const incremental = noted();
          made.add(incremental);
          rmSync(note);
          help();
          expect(incremental).toBe(noted());
        }
      }),
      {
        numRuns: NOTE_RUNS,
        // Every kind of step in both places at least once, whatever the random ones draw.
        examples: [
          [
            (["add", "edit", "touch", "rename", "remove"] as const).flatMap((kind) =>
              (["code", "schema"] as const).map((where) => ({ kind, where })),
            ),
          ],
        ],
      },
    );
  },
  // A sequence of up to 4 steps takes ≈1–3 s.
  20_000 + NOTE_RUNS * 5_000,
);
