// Rule d — branch collisions: two branches each generated "the next" migration, and both ended
// up in one tree (a merge, a rebase, a cherry-pick). Seen as two migrations with one index (in
// the journal, or a second .sql file of that index left beside it), or as a journal entry
// stamped before the one it follows (renumbered by hand). The integrity rule names the broken
// journal lines; this rule says which migrations collide and gives the steps that fix it:
// keep the mainline's drizzle/ and generate this branch's migration again on top of it.

import { readdirSync } from "node:fs";
import { readJournal } from "../../src/migrations.ts";
import { type Context, DRIZZLE, type Finding, type Rule, SUM } from "./types.ts";

const indexOf = (tag: string) => tag.split("_")[0] ?? tag;

/** Groups of tags that collide, from a journal's entries and the tags of the .sql files beside it. */
export function collidingGroups(
  entries: readonly { tag: string; when: number }[],
  sqlTags: readonly string[],
): string[][] {
  const groups = new Map<string, Set<string>>();
  const join = (a: string, b: string) => {
    const group = groups.get(a) ?? groups.get(b) ?? new Set<string>();
    for (const tag of [a, b]) {
      group.add(tag);
      groups.set(tag, group);
    }
  };
  const byIndex = new Map<string, string>();
  const tags = entries.map((e) => e.tag);
  const strays = sqlTags.filter((tag) => !tags.includes(tag));
  for (const tag of [...tags, ...strays]) {
    // migrations.prefix "none" gives every tag the empty index: that is its layout, no collision.
    if (indexOf(tag) === "") continue;
    const first = byIndex.get(indexOf(tag));
    if (first && first !== tag) join(first, tag);
    else byIndex.set(indexOf(tag), tag);
  }
  entries.forEach((entry, i) => {
    const previous = entries[i - 1];
    if (previous && entry.when <= previous.when) join(previous.tag, entry.tag);
  });
  return [...new Set(groups.values())].map((group) => [...group]);
}

function collisions(folder: string): string[][] {
  let entries: { tag: string; when: number }[];
  try {
    entries = readJournal(folder).entries;
  } catch {
    return []; // unreadable journal: the integrity rule reports it
  }
  const sqlTags = readdirSync(folder)
    .filter((name) => name.endsWith(".sql"))
    .map((name) => name.slice(0, -4));
  return collidingGroups(entries, sqlTags);
}

/** drizzle/ files of the checked tree that the mainline does not have: this branch's migrations. */
function branchFiles(ctx: Context): string[] {
  const mainline = ctx.git?.mainline;
  if (!mainline) return [];
  const list = (sub: string) =>
    readdirSync(`${ctx.folder}${sub}`)
      .filter((name) => name.endsWith(".sql") || name.endsWith("_snapshot.json"))
      .map((name) => `${DRIZZLE}${sub}/${name}`);
  return [...list(""), ...list("/meta")].filter((file) => !mainline.files.has(file));
}

function finding(ctx: Context, group: string[], branch: string[]): Finding {
  const files = group.map((tag) => `${DRIZZLE}/${tag}.sql`);
  const sameIndex = new Set(group.map(indexOf)).size < group.length;
  const why = sameIndex
    ? `both have index ${indexOf(group[0] ?? "")}`
    : "a later migration is stamped before an earlier one";
  const mainline = ctx.git?.mainline?.name;
  const ours = branch.filter((file) => file.endsWith(".sql"));
  const steps =
    mainline && ours.length > 0
      ? `keep ${mainline}'s migrations and generate this branch's again on top of them: \`git checkout ${mainline} -- ${DRIZZLE} && rm -f ${branch.join(" ")} && db generate && git add -A ${DRIZZLE}\` (a hand-written migration: save its SQL first, then \`db generate --custom\` and paste it back, then \`db generate\` again to record it), then commit`
      : `keep the migration that is already on the main branch and generate the other again on top of it: restore drizzle/ (SQL files, meta/, ${SUM}) as it is on main, remove the other branch's migration files, run \`db generate\`, and commit drizzle/`;
  return {
    kind: "collision",
    file: files.at(-1) ?? DRIZZLE,
    message: `branch collision: ${files.join(" and ")} ${why} — two branches each added a migration and the migrator refuses this history. Fix: ${steps}`,
  };
}

export const collisionsRule: Rule = async (ctx) => {
  const groups = collisions(ctx.folder);
  const branch = groups.length > 0 ? branchFiles(ctx) : [];
  return {
    findings: groups.map((group) => finding(ctx, group, branch)),
    note: "no two migrations share an index or go back in time",
  };
};
