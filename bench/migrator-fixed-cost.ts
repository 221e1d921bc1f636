// 3b. Our migrator against drizzle-orm's own (drizzle-orm/postgres-js/migrator, what an app calls
//     at start-up), in one process, on the same server and the same folder: what every `db up`
//     with nothing to do, every `db migrate` in a deploy and every consumer's test start pay.
//     - up to date: the fixed cost, a connection opened, the history read, nothing applied.
//       Budget: at most drizzle-orm's + 20 ms.
//     - a generated 150-file history applied to a new empty database. Budget: ≤ 1.0× drizzle-orm's,
//       though ours runs each file in its own transaction under an advisory lock (drizzle-orm runs
//       all files in one) and checks the integrity file first.
// In-process on both sides, so neither pays a node start-up or a module load in the numbers; both
// open and close their own connection in each run, as a caller's one call does.

import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as drizzleMigrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { migrate } from "../src/migrator.ts";
import { historyFolder } from "./history.ts";
import { type Measurement, median, ms, type Row, ratio, spread, table, timed } from "./lib.ts";
import { throwawayServer } from "./server.ts";

const LONG = 150;
/** Up-to-date runs are short and noisy: many of them. Applying 150 files: fewer. */
const UP_TO_DATE_REPS = 25;
const APPLY_REPS = 7;
const FIXED_SLACK_MS = 20;

async function drizzleOrm(url: string, folder: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await drizzleMigrate(drizzle(client), { migrationsFolder: folder });
  } finally {
    await client.end();
  }
}

async function ours(url: string, folder: string): Promise<void> {
  await migrate({ url, folder, log: () => {} });
}

export const migratorFixedCost: Measurement = {
  id: "migrator-orm",
  title: "our migrator vs drizzle-orm's migrator, in process",
  async measure({ log }) {
    const server = await throwawayServer("migrator-orm");
    const freshDatabase = () => server.freshDatabase("bench_orm");
    const folder = historyFolder(LONG);

    // A long history on new databases, alternating who goes first; one warm-up each.
    const apply = { ours: [] as number[], orm: [] as number[] };
    for (let rep = -1; rep < APPLY_REPS; rep++) {
      for (const tool of rep % 2 ? (["orm", "ours"] as const) : (["ours", "orm"] as const)) {
        const url = await freshDatabase();
        const { ms: took } = await timed(() => (tool === "ours" ? ours : drizzleOrm)(url, folder));
        if (rep >= 0) apply[tool].push(took);
      }
    }
    log(`${LONG} files: ours ${ms(median(apply.ours))}, drizzle-orm ${ms(median(apply.orm))}`);

    // The same history, up to date: each tool on the database it migrated itself.
    const [oursDb, ormDb] = [await freshDatabase(), await freshDatabase()];
    await ours(oursDb, folder);
    await drizzleOrm(ormDb, folder);
    const upToDate = { ours: [] as number[], orm: [] as number[] };
    for (let rep = -1; rep < UP_TO_DATE_REPS; rep++) {
      for (const tool of rep % 2 ? (["orm", "ours"] as const) : (["ours", "orm"] as const)) {
        const { ms: took } = await timed(() =>
          tool === "ours" ? ours(oursDb, folder) : drizzleOrm(ormDb, folder),
        );
        if (rep >= 0) upToDate[tool].push(took);
      }
    }
    log(`up to date: ours ${ms(median(upToDate.ours))}, drizzle-orm ${ms(median(upToDate.orm))}`);

    const [fixedOurs, fixedOrm] = [median(upToDate.ours), median(upToDate.orm)];
    const [applyOurs, applyOrm] = [median(apply.ours), median(apply.orm)];
    const rows: Row[] = [
      {
        measurement: `migrator, up to date (${LONG} files): ours`,
        value: ms(fixedOurs),
        baseline: `drizzle-orm's migrator: ${ms(fixedOrm)}`,
        ratio: ratio(fixedOurs, fixedOrm),
        budget: `≤ drizzle-orm + ${FIXED_SLACK_MS} ms`,
        pass: fixedOurs <= fixedOrm + FIXED_SLACK_MS,
      },
      {
        measurement: `migrator, ${LONG} files on a new database: ours`,
        value: ms(applyOurs),
        baseline: `drizzle-orm's migrator: ${ms(applyOrm)}`,
        ratio: ratio(applyOurs, applyOrm),
        budget: "≤ 1.0× drizzle-orm",
        pass: applyOurs <= applyOrm,
      },
    ];
    return {
      rows,
      sections: [
        `### Our migrator and drizzle-orm's, in one process

Both in the benchmark's process on one throwaway server (fsync off), on one folder: the committed
migrations extended to ${LONG} by bench/history.ts. drizzle-orm's is \`migrate(drizzle(client),
{ migrationsFolder })\` from drizzle-orm/postgres-js/migrator with its own postgres.js client;
ours is \`migrate({ url, folder })\` from src/migrator.ts. Each run opens and closes its
connection. One warm-up run each, then alternating who goes first. Up to date: each tool on the
database it migrated itself; ours reads the history in one query and takes no lock when nothing is
pending. Applying: a new empty database per run; ours runs a transaction per file, sent as one
batch (src/migrator.ts), drizzle-orm one transaction for all.

${table(
  ["", "ours", "drizzle-orm's migrator"],
  [
    [`up to date (n=${UP_TO_DATE_REPS})`, spread(upToDate.ours), spread(upToDate.orm)],
    [`${LONG} files applied (n=${APPLY_REPS})`, spread(apply.ours), spread(apply.orm)],
  ],
)}`,
      ],
    };
  },
};
