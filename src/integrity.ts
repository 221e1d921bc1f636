// drizzle/migrations.sum: the integrity file of the migration history, in the spirit of Atlas's
// atlas.sum. One line per migration with the SHA-256 of its SQL file, its snapshot and its journal
// entry, and a total over those lines. Written only by `db generate`, append-only, and verifiable
// offline from the folder alone — no git, no database — which is what `nix flake check` (a source
// tree without .git) and the migrator (before it touches anything) need.
//
//   kata-migrations-sum v1
//   total <sha256 of the migration lines below>
//   0000_functions sql=<sha256> snapshot=<sha256> journal=<sha256>

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "./hash.ts";
import { type JournalEntry, readJournal } from "./migrations.ts";

export const SUM_FILE = "migrations.sum";
const HEADER = "kata-migrations-sum v1";

export interface SumLine {
  tag: string;
  sql: string;
  snapshot: string;
  journal: string;
}

export interface IntegrityFinding {
  /** What kind of damage, for tests and for choosing the fix. */
  kind:
    | "missing-sum"
    | "sum-edited"
    | "edited"
    | "deleted"
    | "renamed"
    | "reordered"
    | "unrecorded"
    | "journal";
  /** The file to look at, relative to the repository (drizzle/…). */
  file: string;
  /** One line: what is wrong and how to fix it. */
  message: string;
  /**
   * Set on the journal's shape that changes nothing a migrator applies: numbering, timestamps
   * going back, a missing snapshot, a SQL file outside the journal. Real drizzle-kit histories
   * have them (an entry deleted by hand, two branches merged, a custom migration added without a
   * snapshot) and drizzle-orm's migrator applies such folders as they are, so ours does too:
   * `db check` reports them, the migrator does not refuse them (it refuses, against the database,
   * a file that drizzle would skip). Unset: the folder disagrees with its integrity file, or a
   * migration cannot be read — the migrator refuses before connecting.
   */
  layout?: true;
}

/** The journal entry as hashed: fixed key order, so formatting of _journal.json does not count. */
const journalHash = (e: JournalEntry) =>
  sha256(JSON.stringify([e.idx, e.version, e.when, e.tag, e.breakpoints]));

/**
 * drizzle-kit's snapshot of a migration: meta/<prefix>_snapshot.json, the prefix being the part of
 * the tag before its first `_` in every layout (`0003`, `20240101123456`, `1704067200`, and ``
 * for `migrations.prefix: "none"`, whose migrations all share meta/_snapshot.json).
 */
export const snapshotName = (tag: string) => `meta/${tag.split("_")[0]}_snapshot.json`;
const snapshotFile = (folder: string, tag: string) => join(folder, snapshotName(tag));

const fileHash = (file: string) => (existsSync(file) ? sha256(readFileSync(file)) : "missing");

/** The line the folder's files give for one journal entry now. */
export function lineFor(folder: string, entry: JournalEntry): SumLine {
  return {
    tag: entry.tag,
    sql: fileHash(join(folder, `${entry.tag}.sql`)),
    snapshot: fileHash(snapshotFile(folder, entry.tag)),
    journal: journalHash(entry),
  };
}

const formatLine = (l: SumLine) =>
  `${l.tag} sql=${l.sql} snapshot=${l.snapshot} journal=${l.journal}`;

export function formatSum(lines: SumLine[]): string {
  const body = lines.map(formatLine);
  return [HEADER, `total ${sha256(body.map((l) => `${l}\n`).join(""))}`, ...body, ""].join("\n");
}

export function parseSum(text: string): { total: string; lines: SumLine[]; bodyTotal: string } {
  const [header, totalLine, ...rest] = text.split("\n").filter((l) => l.trim() !== "");
  if (header !== HEADER || !totalLine?.startsWith("total ")) {
    throw new Error(`not a ${HEADER} file`);
  }
  const lines = rest.map((raw) => {
    const match = /^(\S+) sql=(\S+) snapshot=(\S+) journal=(\S+)$/.exec(raw);
    if (!match) throw new Error(`malformed line: ${raw}`);
    const [, tag = "", sql = "", snapshot = "", journal = ""] = match;
    return { tag, sql, snapshot, journal };
  });
  return {
    total: totalLine.slice("total ".length),
    lines,
    bodyTotal: sha256(rest.map((l) => `${l}\n`).join("")),
  };
}

export const sumPath = (folder: string) => join(folder, SUM_FILE);

export function readSum(folder: string): SumLine[] | undefined {
  const file = sumPath(folder);
  return existsSync(file) ? parseSum(readFileSync(file, "utf8")).lines : undefined;
}

/**
 * Append lines for the journal's entries that the sum does not have yet, and re-hash the ones
 * named in `rehash` (new migrations not yet committed, e.g. a custom migration filled in after
 * `generate --custom`). Existing lines are otherwise kept exactly: the file is append-only.
 */
export function updateSum(folder: string, rehash: ReadonlySet<string> = new Set()): string[] {
  const existing = readSum(folder) ?? [];
  const known = new Map(existing.map((l) => [l.tag, l]));
  const changed: string[] = [];
  const lines = readJournal(folder).entries.map((entry) => {
    const line = known.get(entry.tag);
    if (line && !rehash.has(entry.tag)) return line;
    const fresh = lineFor(folder, entry);
    if (!line || formatLine(line) !== formatLine(fresh)) changed.push(entry.tag);
    return fresh;
  });
  writeFileSync(sumPath(folder), formatSum(lines));
  return changed;
}

/**
 * Everything wrong with the folder's integrity, from its files alone. Empty means intact.
 * `displayFolder` is how messages name the folder: `drizzle` for this package's, else the path
 * the caller was given.
 */
export function verifyIntegrity(folder: string, displayFolder = "drizzle"): IntegrityFinding[] {
  const at = (name: string) => `${displayFolder}/${name}`;
  const findings: IntegrityFinding[] = [];
  const file = sumPath(folder);
  if (!existsSync(file)) {
    return [
      {
        kind: "missing-sum",
        file: at(SUM_FILE),
        message: `${at(SUM_FILE)} is missing: it is written by \`db generate\`; restore it from git${displayFolder === "drizzle" ? "" : ` (for a folder \`db generate\` did not write, create it with \`db sum ${displayFolder}\`: docs/migrator.md)`}`,
      },
    ];
  }
  let sum: ReturnType<typeof parseSum>;
  try {
    sum = parseSum(readFileSync(file, "utf8"));
  } catch (error) {
    return [
      {
        kind: "sum-edited",
        file: at(SUM_FILE),
        message: `${at(SUM_FILE)} is damaged (${(error as Error).message}): restore it from git`,
      },
    ];
  }
  if (sum.total !== sum.bodyTotal) {
    findings.push({
      kind: "sum-edited",
      file: at(SUM_FILE),
      message: `${at(SUM_FILE)} was edited by hand (its total does not match its lines): restore it from git; only \`db generate\` writes it`,
    });
  }

  const entries = readJournal(folder).entries;
  findings.push(...journalFindings(folder, entries, at));

  const recorded = new Map(sum.lines.map((l) => [l.tag, l]));
  const current = new Map(entries.map((e) => [e.tag, lineFor(folder, e)]));
  const currentBySql = new Map([...current.values()].map((l) => [l.sql, l.tag]));

  for (const line of sum.lines) {
    const now = current.get(line.tag);
    if (now) {
      for (const part of ["sql", "snapshot", "journal"] as const) {
        if (now[part] === line[part]) continue;
        findings.push(
          now[part] === "missing"
            ? {
                kind: "deleted",
                file: partFile(line.tag, part, at),
                message: `${partFile(line.tag, part, at)} of committed migration ${line.tag} was deleted: restore it from git`,
              }
            : editedFinding(line.tag, part, at),
        );
      }
      continue;
    }
    const renamedTo = currentBySql.get(line.sql);
    findings.push(
      renamedTo && !recorded.has(renamedTo)
        ? {
            kind: "renamed",
            file: at(`${renamedTo}.sql`),
            message: `committed migration ${line.tag} was renamed to ${renamedTo}: rename it back (with its journal entry); committed migrations are immutable`,
          }
        : {
            kind: "deleted",
            file: at(`${line.tag}.sql`),
            message: `committed migration ${line.tag} was deleted (file or journal entry): restore it from git; undo a change with a new migration instead`,
          },
    );
  }
  const renamedTargets = new Set(findings.filter((f) => f.kind === "renamed").map((f) => f.file));
  for (const entry of entries) {
    if (recorded.has(entry.tag) || renamedTargets.has(at(`${entry.tag}.sql`))) continue;
    findings.push({
      kind: "unrecorded",
      file: at(`${entry.tag}.sql`),
      message: `migration ${entry.tag} is not in ${at(SUM_FILE)}: create migrations with \`db generate\` (it records them), or run it again to record a custom migration you filled in`,
    });
  }

  const recordedOrder = sum.lines.map((l) => l.tag).filter((t) => current.has(t));
  const journalOrder = entries.map((e) => e.tag).filter((t) => recorded.has(t));
  if (recordedOrder.join() !== journalOrder.join()) {
    findings.push({
      kind: "reordered",
      file: at("meta/_journal.json"),
      message: `committed migrations were reordered in the journal (recorded order: ${recordedOrder.join(", ")}): restore the order from git`,
    });
  }
  return findings;
}

const partFile = (tag: string, part: "sql" | "snapshot" | "journal", at: (n: string) => string) =>
  part === "sql"
    ? at(`${tag}.sql`)
    : part === "snapshot"
      ? at(snapshotName(tag))
      : at("meta/_journal.json");

function editedFinding(
  tag: string,
  part: "sql" | "snapshot" | "journal",
  at: (name: string) => string,
): IntegrityFinding {
  const file = partFile(tag, part, at);
  const what = part === "journal" ? `the journal entry of ${tag}` : file;
  return {
    kind: "edited",
    file,
    message: `${what} changed after it was committed: restore it from git and put the change in a new migration (\`db generate\`)`,
  };
}

/** The prefixes drizzle-kit writes besides the index: timestamp and supabase, unix, none. */
const OTHER_LAYOUT = /^(?:\d{14}|\d{10}|)$/;

/** The journal's own consistency: indexes, tags, order of timestamps, files present. */
function journalFindings(
  folder: string,
  entries: JournalEntry[],
  at: (name: string) => string,
): IntegrityFinding[] {
  const findings: IntegrityFinding[] = [];
  const journal = at("meta/_journal.json");
  const add = (message: string, file = journal, layout = true) =>
    findings.push(
      layout ? { kind: "journal", file, message, layout } : { kind: "journal", file, message },
    );
  const tags = new Set<string>();
  entries.forEach((entry, position) => {
    if (entry.idx !== position)
      add(`journal entry ${entry.tag} has idx ${entry.idx}, expected ${position}`);
    // migrations.prefix "index" (the default) numbers tags by idx; the other layouts by time or not
    // at all, and a history may switch from one to another (drizzle-kit's migrations.prefix).
    const index = String(entry.idx).padStart(4, "0");
    const prefix = entry.tag.split("_")[0] ?? "";
    if (!entry.tag.includes("_") || (prefix !== index && !OTHER_LAYOUT.test(prefix))) {
      add(`journal entry ${position} is ${entry.tag}, expected a tag starting with ${index}_`);
    }
    if (tags.has(entry.tag)) add(`journal lists ${entry.tag} twice`, journal, false);
    tags.add(entry.tag);
    const previous = entries[position - 1];
    if (previous && entry.when <= previous.when) {
      add(
        `journal entry ${entry.tag} is stamped before ${previous.tag}: migrations from two branches collided; see \`db check\``,
      );
    }
    if (!existsSync(join(folder, `${entry.tag}.sql`)))
      add(`${at(`${entry.tag}.sql`)} is missing`, at(`${entry.tag}.sql`), false);
    if (!existsSync(snapshotFile(folder, entry.tag))) {
      const snapshot = at(snapshotName(entry.tag));
      add(`${snapshot} is missing`, snapshot);
    }
  });
  for (const name of readdirSync(folder)) {
    if (name.endsWith(".sql") && !tags.has(name.slice(0, -4))) {
      add(
        `${at(name)} is not in the journal: generate migrations with \`db generate\`, never by hand`,
        at(name),
      );
    }
  }
  return findings;
}

/** The journal dialects the migrator applies: drizzle-kit 0.2x wrote `pg`, later `postgresql`. */
const POSTGRES_DIALECTS = new Set(["postgresql", "pg"]);

export interface WrittenIntegrityFile {
  /** The file written: <folder>/migrations.sum. */
  file: string;
  /** The migrations recorded by this call (all of them the first time; new ones after that). */
  recorded: string[];
  /** How many migrations the journal lists. */
  migrations: number;
  /** What is still wrong afterwards: a recorded file that changed since (never re-recorded). */
  findings: IntegrityFinding[];
}

/**
 * Create, or extend, the integrity file of a drizzle-kit PostgreSQL migrations folder that `db
 * generate` did not write — another project's history, a folder generated elsewhere — so that
 * `migrate({ folder })` accepts it. It records the files as they are now: run it on a copy you
 * trust. Append-only like `db generate`: existing lines are kept, journal entries without one get
 * theirs, and a recorded file that changed since is returned as a finding, never recorded again.
 * Throws when the folder has no readable journal or is not a PostgreSQL history.
 */
export function writeIntegrityFile(folder: string): WrittenIntegrityFile {
  const journal = readJournal(folder);
  if (!POSTGRES_DIALECTS.has(journal.dialect)) {
    throw new Error(
      `${join(folder, "meta", "_journal.json")} is a ${journal.dialect} history: the migrator applies PostgreSQL ones (dialect postgresql)`,
    );
  }
  const recorded = updateSum(folder);
  return {
    file: sumPath(folder),
    recorded,
    migrations: journal.entries.length,
    findings: verifyIntegrity(folder, folder).filter((f) => !f.layout),
  };
}
