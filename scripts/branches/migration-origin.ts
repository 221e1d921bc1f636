// Where a migration the database knows and this checkout does not comes from: the migrator only
// has the record (created_at = the journal's `when`, and the file's hash); git has the journals of
// every branch and the files of every worktree. "0003_add_x, on branch feat/x" leads somewhere;
// "created_at 1796154630963" does not.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../src/hash.ts";
import type { Journal } from "../../src/migrations.ts";
import type { AppliedRecord } from "../../src/migrator.ts";
import { PACKAGE_ROOT } from "../basics/env.ts";
import { findRepo, git, type Repo, readBlobs, topPath } from "../basics/git.ts";

interface Source {
  /** "on branch feat/x", "uncommitted in the worktree /path". */
  label: string;
  journal: Journal;
  /** The text of one of its migrations, or undefined. */
  sql: (tag: string) => Promise<string | undefined>;
}

const parse = (text: string | undefined): Journal | undefined => {
  try {
    return text ? (JSON.parse(text) as Journal) : undefined;
  } catch {
    return undefined;
  }
};

async function show(repo: Repo, ref: string, path: string): Promise<string | undefined> {
  try {
    return (await git(repo, ["show", `${ref}:${topPath(repo, path)}`])).toString();
  } catch {
    return undefined;
  }
}

async function sources(repo: Repo): Promise<Source[]> {
  const refs = (
    await git(repo, ["for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes"])
  )
    .toString()
    .split("\n")
    .filter((ref) => ref && !ref.endsWith("/HEAD"));
  const branches = await Promise.all(
    refs.map(async (ref): Promise<Source | undefined> => {
      const journal = parse(await show(repo, ref, "drizzle/meta/_journal.json"));
      return journal
        ? {
            label: `on branch ${ref}`,
            journal,
            sql: (tag) => show(repo, ref, `drizzle/${tag}.sql`),
          }
        : undefined;
    }),
  );
  // Other worktrees' files on disk: a migration generated there and not committed yet.
  const worktrees = (await git(repo, ["worktree", "list", "--porcelain"]))
    .toString()
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length))
    .filter((path) => path !== repo.top);
  const trees = worktrees.map((path): Source | undefined => {
    const folder = join(path, repo.prefix, "drizzle");
    const read = (file: string) => {
      try {
        return readFileSync(join(folder, file), "utf8");
      } catch {
        return undefined;
      }
    };
    const journal = parse(read("meta/_journal.json"));
    return journal
      ? { label: `in the worktree ${path}`, journal, sql: async (tag) => read(`${tag}.sql`) }
      : undefined;
  });
  return [...branches, ...trees].filter((s): s is Source => s !== undefined);
}

/** How far back HEAD's reflog is read for a migration no branch has any more. */
const REFLOG_DEPTH = 100;

/**
 * The journals of the commits HEAD was on lately, newest first, one per distinct journal: where a
 * migration is found after a rebase or a reset took it off every branch (a database copy made
 * before the rebase still has it applied). Three git processes, whatever the depth.
 */
async function reflogSources(repo: Repo): Promise<Source[]> {
  const commits = (
    await git(repo, ["log", "--walk-reflogs", `--max-count=${REFLOG_DEPTH}`, "--format=%H", "HEAD"])
  )
    .toString()
    .split("\n")
    .filter(Boolean);
  if (commits.length === 0) return [];
  const journalPath = topPath(repo, "drizzle/meta/_journal.json");
  const checked = (
    await git(
      repo,
      ["cat-file", "--batch-check=%(objectname)"],
      `${commits.map((c) => `${c}:${journalPath}`).join("\n")}\n`,
    )
  )
    .toString()
    .split("\n");
  const firstCommitOf = new Map<string, string>();
  for (const [i, commit] of commits.entries()) {
    const blob = checked[i] ?? "";
    if (/^[0-9a-f]{40,64}$/.test(blob) && !firstCommitOf.has(blob)) firstCommitOf.set(blob, commit);
  }
  const blobs = await readBlobs(repo, [...firstCommitOf.keys()]);
  return [...firstCommitOf].flatMap(([blob, commit]) => {
    const journal = parse(blobs.get(blob)?.toString());
    return journal
      ? [
          {
            label: `in commit ${commit.slice(0, 7)}, which no branch has now (a rebase or reset left it in HEAD's reflog)`,
            journal,
            sql: (tag: string) => show(repo, commit, `drizzle/${tag}.sql`),
          },
        ]
      : [];
  });
}

const entriesAt = (sources: Source[], record: AppliedRecord) =>
  sources.flatMap((source) =>
    source.journal.entries
      .filter((entry) => String(entry.when) === record.createdAt)
      .map((entry) => ({ source, tag: entry.tag })),
  );

/** One description per record: "0003_add_x, on branch feat/x", or its time and hash when git cannot say. */
export async function describeUnknown(records: AppliedRecord[]): Promise<string[]> {
  if (records.length === 0) return [];
  const repo = await findRepo(PACKAGE_ROOT).catch(() => undefined);
  const all = repo ? await sources(repo).catch(() => []) : [];
  // The reflog only when a branch or worktree cannot name one: it is the rarer case.
  const lost = records.some((record) => entriesAt(all, record).length === 0);
  if (repo && lost) all.push(...(await reflogSources(repo).catch(() => [])));
  return Promise.all(
    records.map(async (record) => {
      const bare = `created_at ${record.createdAt} (hash ${record.hash.slice(0, 12)}…)`;
      const hits = entriesAt(all, record);
      const first = hits[0];
      if (!first) return `${bare}, in no branch or worktree of this repository`;
      // The same tag and time, other bytes: what was applied is an earlier version of the file.
      const same = await Promise.all(
        hits.map(async (hit) => {
          const text = await hit.source.sql(hit.tag);
          return text !== undefined && sha256(text) === record.hash;
        }),
      );
      const exact = hits.filter((_, i) => same[i]);
      const shown = (exact.length > 0 ? exact : hits).slice(0, 3);
      const where = shown.map((hit) => hit.source.label).join(", ");
      return exact.length > 0
        ? `${first.tag}, ${where}`
        : `${first.tag} (an earlier version of the file ${where})`;
    }),
  );
}
