// Rule a — integrity: the checked tree's drizzle/ against its own drizzle/migrations.sum and the
// journal's consistency (src/integrity.ts). Needs no git and no database. With git, a migration
// that is not committed yet and changed since `db generate` recorded it gets the right advice:
// record it again, rather than restore it.

import { type IntegrityFinding, parseSum, verifyIntegrity } from "../../src/integrity.ts";
import { readJournal } from "../../src/migrations.ts";
import { type Context, DRIZZLE, type Finding, JOURNAL, plural, type Rule, SUM } from "./types.ts";

/** The reason a JSON file failed to parse, without the absolute path of a scratch folder. */
export const unreadable = (error: unknown) =>
  (error as Error).message.replace(/^cannot read the migration journal [^:]*: /, "");

/** The migration a finding is about, when the file or the message names one. */
function tagOf(finding: IntegrityFinding): string | undefined {
  const sql = /^drizzle\/([^/]+)\.sql$/.exec(finding.file);
  if (sql) return sql[1];
  if (finding.file === JOURNAL) return /the journal entry of (\S+)/.exec(finding.message)?.[1];
  return undefined;
}

/**
 * Whether HEAD holds the migration a finding is about: its file, or its line in migrations.sum
 * (a migration deleted by a commit made with --no-verify is still committed history).
 * Undefined without git.
 */
function committed(ctx: Context): ((finding: Finding) => boolean) | undefined {
  if (!ctx.git) return undefined;
  const files = ctx.git.head?.files ?? new Map<string, Buffer>();
  const sum = files.get(SUM);
  let recorded: string[] = [];
  try {
    recorded = sum ? parseSum(sum.toString()).lines.map((l) => l.tag) : [];
  } catch {}
  return (finding) => {
    const { tag } = finding;
    if (tag) return files.has(`${DRIZZLE}/${tag}.sql`) || recorded.includes(tag);
    if (files.has(finding.file)) return true;
    const index = /meta\/(\d+)_snapshot\.json$/.exec(finding.file)?.[1];
    return index !== undefined && recorded.some((tag) => tag.startsWith(`${index}_`));
  };
}

export const integrity: Rule = async (ctx) => {
  let raw: IntegrityFinding[];
  let count: number;
  try {
    raw = verifyIntegrity(ctx.folder, DRIZZLE);
    count = readJournal(ctx.folder).entries.length;
  } catch (error) {
    return {
      note: "",
      findings: [
        {
          kind: "journal",
          file: JOURNAL,
          message: `${JOURNAL} cannot be read (${unreadable(error)}): is a merge conflict left in it? Resolve it (see the branch collision steps in docs/guards.md) and run \`db check\` again`,
        },
      ],
    };
  }
  const isCommitted = committed(ctx);
  const findings = raw.map((f): Finding => {
    // "drizzle/x.sql is missing" (the journal's view) is the deletion the history rule reports.
    const kind = f.kind === "journal" && f.message.endsWith(" is missing") ? "deleted" : f.kind;
    const finding: Finding = { ...f, kind, tag: tagOf(f) };
    if (!isCommitted || !["edited", "deleted"].includes(f.kind) || isCommitted(finding)) {
      return finding;
    }
    const what = f.file === JOURNAL ? `the journal entry of ${finding.tag}` : f.file;
    const message =
      f.kind === "edited"
        ? `${what} changed after \`db generate\` recorded it in drizzle/migrations.sum (it is not committed yet): run \`db generate\` again to record it`
        : `${what} was deleted after \`db generate\` recorded it (it is not committed yet): restore it, or drop the new migrations with \`git checkout HEAD -- drizzle\` plus removing their files (\`git clean -n drizzle\` lists them) and run \`db generate\` again`;
    return { ...finding, message };
  });
  return { findings, note: `${plural(count, "migration")} match drizzle/migrations.sum` };
};
