// The migrations a change adds: those of the checked tree's journal that are not in HEAD (`db
// check`, `--staged`), or not in REF (`--base REF`: a branch's whole contribution, for CI). The
// rules that judge what a migration holds (squawk, transactions) look at these only: a committed
// migration is immutable, so a finding in it could never be fixed — and it is applied already
// wherever that commit was deployed. Needs git: without it nothing can be told apart as new.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readJournal } from "../../src/migrations.ts";
import { type Context, JOURNAL, type RefTree, sqlOf } from "./types.ts";

const committedTags = (ref: RefTree | undefined): Set<string> => {
  const text = ref?.files.get(JOURNAL);
  if (!text) return new Set();
  try {
    return new Set(
      (JSON.parse(text.toString()) as { entries: { tag: string }[] }).entries.map((e) => e.tag),
    );
  } catch {
    return new Set();
  }
};

export interface NewMigration {
  tag: string;
  /** Absolute path of its SQL file in the checked tree. */
  path: string;
}

export type NewMigrations =
  | { files: NewMigration[] /** "not in HEAD", "nothing committed yet" */; since: string }
  | { skipped: string };

export function newMigrations(ctx: Context): NewMigrations {
  if (!ctx.git) {
    return { skipped: "no git here: cannot tell new migrations from committed ones" };
  }
  const against = ctx.git.base ?? ctx.git.head;
  const old = committedTags(against);
  let tags: string[];
  try {
    tags = readJournal(ctx.folder)
      .entries.map((e) => e.tag)
      .filter((tag) => !old.has(tag));
  } catch {
    return { skipped: "the journal cannot be read (see integrity)" };
  }
  // A committed migration under a new name is the history rule's finding, not a new migration.
  const committedSql = [...(against?.files ?? new Map<string, Buffer>())]
    .filter(([file]) => file.endsWith(".sql"))
    .map(([, text]) => text);
  const files = tags
    .map((tag) => ({ tag, path: join(ctx.root, sqlOf(tag)) }))
    .filter((f) => existsSync(f.path))
    .filter((f) => !committedSql.some((text) => text.equals(readFileSync(f.path))));
  return { files, since: against ? `not in ${against.name}` : "nothing committed yet" };
}
