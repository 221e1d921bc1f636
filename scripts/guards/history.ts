// Rule b — the history is append-only: every migration committed in HEAD (and in `--base REF`)
// is still in the checked tree, unchanged and in its place — its SQL file, its snapshot, its
// journal entry and its line of drizzle/migrations.sum. New migrations may only follow them.
// Needs git; without it the integrity rule alone compares the files with migrations.sum.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSum, SUM_FILE, type SumLine } from "../../src/integrity.ts";
import { type Journal, readJournal } from "../../src/migrations.ts";
import { collidingGroups } from "./collisions.ts";
import {
  type Context,
  DRIZZLE,
  type Finding,
  JOURNAL,
  plural,
  type RefTree,
  type Rule,
  SUM,
  snapshotOf,
  sqlOf,
} from "./types.ts";

const ENTRY_FIELDS = ["idx", "version", "when", "tag", "breakpoints"] as const;

const readIn = (root: string, path: string) =>
  existsSync(join(root, path)) ? readFileSync(join(root, path)) : undefined;

function parsed<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined; // unreadable: the integrity rule reports it
  }
}

/** The ref's journal entries and sum lines, minus the tags exempted (see exemptions()). */
function committed(ref: RefTree, exempt: ReadonlySet<string>) {
  const journal = parsed(() => JSON.parse(String(ref.files.get(JOURNAL))) as Journal);
  const sumText = ref.files.get(SUM);
  const sum = sumText ? parsed(() => parseSum(sumText.toString())) : undefined;
  return {
    entries: (journal?.entries ?? []).filter((e) => !exempt.has(e.tag)),
    lines: sum?.lines.filter((l) => !exempt.has(l.tag)),
  };
}

const sameLine = (a: SumLine, b: SumLine) =>
  a.sql === b.sql && a.snapshot === b.snapshot && a.journal === b.journal;

/** Everything about `ref`'s migrations that the tree in `root` changed. */
export function compareHistory(
  ref: RefTree,
  root: string,
  exempt: ReadonlySet<string> = new Set(),
): Finding[] {
  const { entries: refEntries, lines: refLines } = committed(ref, exempt);
  if (refEntries.length === 0) return [];
  const entries = parsed(() => readJournal(join(root, DRIZZLE)).entries) ?? [];
  const byTag = new Map(entries.map((e) => [e.tag, e]));
  const sqlFiles = readdirSync(join(root, DRIZZLE)).filter((name) => name.endsWith(".sql"));
  const restore = (...files: string[]) => `\`git checkout ${ref.name} -- ${files.join(" ")}\``;
  const findings: Finding[] = [];
  const gone = new Set<string>();
  let tag = "";
  const add = (kind: string, file: string, message: string) =>
    findings.push({ kind, file, message, tag });

  for (const committedEntry of refEntries) {
    tag = committedEntry.tag;
    const sqlFile = sqlOf(tag);
    const snapshotFile = snapshotOf(tag);
    const [refSql, refSnapshot] = [ref.files.get(sqlFile), ref.files.get(snapshotFile)];
    const [sql, snapshot] = [readIn(root, sqlFile), readIn(root, snapshotFile)];
    const entry = byTag.get(tag);

    if (!sql) {
      gone.add(tag);
      const renamed = refSql
        ? sqlFiles.find((name) => {
            const file = `${DRIZZLE}/${name}`;
            return !ref.files.has(file) && readIn(root, file)?.equals(refSql);
          })
        : undefined;
      if (renamed) {
        tag = renamed.slice(0, -4);
        add(
          "renamed",
          `${DRIZZLE}/${renamed}`,
          `committed migration ${sqlFile} was renamed to ${DRIZZLE}/${renamed}: committed migrations are immutable — rename it back (\`git mv\` if staged), and its tag in ${JOURNAL} if you changed it`,
        );
        continue;
      }
      if (!entry) {
        add(
          "deleted",
          sqlFile,
          `committed migration ${tag} was deleted (${sqlFile} and its entry in ${JOURNAL}): restore the file with ${restore(sqlFile)} and the entry as in \`git show ${ref.name}:${JOURNAL}\`; to undo a migration, add a new one that reverses it`,
        );
        continue;
      }
      add(
        "deleted",
        sqlFile,
        `${sqlFile} (committed migration ${tag}) was deleted: restore it with ${restore(sqlFile)}; to undo a migration, add a new one that reverses it`,
      );
    } else if (refSql && !sql.equals(refSql)) {
      add(
        "edited",
        sqlFile,
        `${sqlFile} was edited after it was committed (it differs from ${ref.name}): undo it with ${restore(sqlFile)} and put the change in a new migration (\`db generate\`, or \`db generate --custom\` for hand-written SQL)`,
      );
    }

    if (refSnapshot && !snapshot) {
      add(
        "deleted",
        snapshotFile,
        `${snapshotFile} (snapshot of committed migration ${tag}) was deleted: restore it with ${restore(snapshotFile)}`,
      );
    } else if (refSnapshot && snapshot && !snapshot.equals(refSnapshot)) {
      add(
        "edited",
        snapshotFile,
        `${snapshotFile} (snapshot of committed migration ${tag}) differs from ${ref.name}: undo it with ${restore(snapshotFile)}; only \`db generate\` writes snapshots, for new migrations`,
      );
    }

    if (!entry) {
      add(
        "deleted",
        JOURNAL,
        `${JOURNAL}: the entry of committed migration ${tag} was removed: put it back as it is in \`git show ${ref.name}:${JOURNAL}\``,
      );
      continue;
    }
    const changed = ENTRY_FIELDS.filter((field) => entry[field] !== committedEntry[field]);
    if (changed.length > 0) {
      add(
        "edited",
        JOURNAL,
        `${JOURNAL}: the entry of committed migration ${tag} was changed (${changed.join(", ")}): restore it as it is in \`git show ${ref.name}:${JOURNAL}\`; \`db generate\` only appends entries`,
      );
    }
  }

  const order = (tags: string[]) => tags.filter((t) => refEntries.some((e) => e.tag === t));
  const refOrder = refEntries.map((e) => e.tag).filter((t) => byTag.has(t));
  if (order(entries.map((e) => e.tag)).join() !== refOrder.join()) {
    tag = "";
    add(
      "reordered",
      JOURNAL,
      `${JOURNAL}: committed migrations were reordered (${ref.name} has ${refOrder.join(", ")}): restore their order as in \`git show ${ref.name}:${JOURNAL}\`; new migrations go after them`,
    );
  }

  findings.push(...compareSum(ref, root, refLines, new Set([...gone, ...exempt])));
  return findings;
}

/** migrations.sum: the ref's lines, unchanged, first and in the same order. */
function compareSum(
  ref: RefTree,
  root: string,
  refLines: SumLine[] | undefined,
  gone: ReadonlySet<string>,
): Finding[] {
  const text = readIn(root, SUM);
  const lines = text ? parsed(() => parseSum(text.toString()).lines) : undefined;
  if (!refLines || !lines) return []; // none committed yet, or unreadable: see the integrity rule
  const fix = `restore it with \`git checkout ${ref.name} -- ${SUM}\`, then run \`db generate\` (it appends the lines of new migrations); only \`db generate\` writes ${SUM_FILE}`;
  const findings: Finding[] = [];
  const byTag = new Map(lines.map((l) => [l.tag, l]));
  for (const committedLine of refLines) {
    if (gone.has(committedLine.tag)) continue; // the migration itself is reported (or exempt)
    const line = byTag.get(committedLine.tag);
    if (!line || !sameLine(line, committedLine)) {
      findings.push({
        kind: line ? "sum-line-edited" : "sum-line-deleted",
        file: SUM,
        tag: committedLine.tag,
        message: `${SUM}: the line of committed migration ${committedLine.tag} was ${line ? "changed" : "removed"}: ${fix}`,
      });
    }
  }
  const refTags = refLines.map((l) => l.tag).filter((t) => byTag.has(t) && !gone.has(t));
  const prefix = lines
    .map((l) => l.tag)
    .filter((t) => !gone.has(t))
    .slice(0, refTags.length);
  if (findings.length === 0 && prefix.join() !== refTags.join()) {
    findings.push({
      kind: "sum-reordered",
      file: SUM,
      message: `${SUM}: the lines of committed migrations are no longer first and in their order (${ref.name}: ${refTags.join(", ")}): ${fix}`,
    });
  }
  return findings;
}

/** The tags of a commit's .sql files in drizzle/. */
const sqlTagsOf = (ref: RefTree) =>
  [...ref.files.keys()]
    .filter((file) => /^drizzle\/[^/]+\.sql$/.test(file))
    .map((file) => file.slice(DRIZZLE.length + 1, -4));

/**
 * The one exception: this branch's own migrations that are not on the mainline (origin/main,
 * main or --base) may be replaced while a merge is committed, or when HEAD itself holds a branch
 * collision (committed with --no-verify) — that is how a collision is fixed: take the mainline's
 * drizzle/ and generate this branch's migration again on top. The mainline's stay immutable.
 */
function exemptions(ctx: Context): Set<string> {
  const { head, mainline, merging } = ctx.git ?? {};
  if (!head || !mainline) return new Set();
  const headEntries = committed(head, new Set()).entries;
  if (!merging && collidingGroups(headEntries, sqlTagsOf(head)).length === 0) return new Set();
  const onMainline = new Set(committed(mainline, new Set()).entries.map((e) => e.tag));
  return new Set(headEntries.map((e) => e.tag).filter((tag) => !onMainline.has(tag)));
}

export const history: Rule = async (ctx) => {
  if (!ctx.git) {
    return {
      findings: [],
      note: "",
      skipped:
        "no git here: committed files are compared with drizzle/migrations.sum only (integrity)",
    };
  }
  const { head, base } = ctx.git;
  if (!head && !base) return { findings: [], note: "nothing committed yet" };
  const exempt = exemptions(ctx);
  const findings = [
    ...(head ? compareHistory(head, ctx.root, exempt) : []),
    ...(base ? compareHistory(base, ctx.root) : []),
  ];
  const refs = [head, base].filter((r): r is RefTree => r !== undefined);
  const counts = refs.map(
    (r) => `${plural(committed(r, new Set()).entries.length, "migration")} of ${r.name}`,
  );
  const note = `${counts.join(", ")} unchanged${exempt.size > 0 ? ` (${[...exempt].join(", ")}: this branch's, not on ${ctx.git.mainline?.name}, may be generated again to fix a collision)` : ""}`;
  return { findings, note };
};
