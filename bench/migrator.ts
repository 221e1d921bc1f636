// 3. Our migrator against `drizzle-kit migrate`, on the committed migrations and on synthetic
//    histories of 50 and 200 small migrations: both as programs (what a person or a deploy
//    waits for), each on a new empty database, and how each grows per migration.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { COMMITTED, historyFolder } from "./history.ts";
import {
  DRIZZLE_KIT,
  type Measurement,
  median,
  ms,
  mustRun,
  PACKAGE_ROOT,
  type Row,
  ratio,
  spread,
  TSX_LOADER,
  table,
} from "./lib.ts";
import { throwawayServer } from "./server.ts";

const SIZES = [COMMITTED, 50, 200];
const REPS = 3;
const CHILD = join(PACKAGE_ROOT, "bench", "children", "migrate.ts");

export const migrator: Measurement = {
  id: "migrator",
  title: "our migrator vs drizzle-kit migrate",
  async measure({ log }) {
    const server = await throwawayServer("migrator");
    const freshDatabase = () => server.freshDatabase("bench_migrate");
    const applied = async (url: string) => {
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
        return row?.n ?? 0;
      } finally {
        await sql.end();
      }
    };

    const results: { n: number; ours: number[]; inProcess: number[]; kit: number[] }[] = [];
    for (const n of SIZES) {
      const folder = historyFolder(n);
      // drizzle-kit reads its folder and database from a config file.
      const kitConfig = (url: string) => {
        const file = join(folder, "drizzle.config.mjs");
        writeFileSync(
          file,
          `export default ${JSON.stringify({ dialect: "postgresql", out: folder, dbCredentials: { url } })};`,
        );
        return file;
      };
      const result = { n, ours: [] as number[], inProcess: [] as number[], kit: [] as number[] };
      for (let rep = 0; rep < REPS; rep++) {
        for (const tool of rep % 2 ? ["kit", "ours"] : ["ours", "kit"]) {
          const url = await freshDatabase();
          if (tool === "ours") {
            const proc = await mustRun(process.execPath, [
              "--import",
              TSX_LOADER,
              CHILD,
              url,
              folder,
            ]);
            const out = JSON.parse(proc.stdout) as { applied: number; ms: number };
            if (out.applied !== n) throw new Error(`our migrator applied ${out.applied} of ${n}`);
            result.ours.push(proc.ms);
            result.inProcess.push(out.ms);
          } else {
            const proc = await mustRun(DRIZZLE_KIT, ["migrate", "--config", kitConfig(url)], {
              cwd: folder,
            });
            const count = await applied(url);
            if (count !== n) throw new Error(`drizzle-kit migrate applied ${count} of ${n}`);
            result.kit.push(proc.ms);
          }
        }
      }
      log(
        `${n} migrations: ours ${ms(median(result.ours))}, drizzle-kit ${ms(median(result.kit))}`,
      );
      results.push(result);
    }

    const first = results[0];
    const last = results.at(-1);
    if (!first || !last) throw new Error("no sizes measured");
    const slope = (pick: (r: (typeof results)[number]) => number[], r = last) =>
      (median(pick(r)) - median(pick(first))) / (r.n - first.n);
    const row = (r: (typeof results)[number], what: string): Row => ({
      measurement: `migrate ${r.n} ${what} migrations: ours`,
      value: ms(median(r.ours)),
      baseline: `\`drizzle-kit migrate\`: ${ms(median(r.kit))}`,
      ratio: ratio(median(r.ours), median(r.kit)),
      budget: "— (information)",
    });
    const oursSlope = slope((r) => r.ours);
    const kitSlope = slope((r) => r.kit);
    return {
      rows: [
        row(first, "committed"),
        row(last, "(synthetic)"),
        {
          measurement: "migrate: time per added migration, ours",
          value: ms(oursSlope),
          baseline: `\`drizzle-kit migrate\`: ${ms(kitSlope)}`,
          ratio: ratio(oursSlope, kitSlope),
          budget: "— (information)",
        },
      ],
      sections: [
        `### Migrators and the length of the history

Each run applies n migrations to a new empty database on a throwaway server (fsync off), as a
program: ours is \`node --import tsx\` running migrate({ url, folder }) (bench/children/migrate.ts,
i.e. \`db migrate\` without the CLI), drizzle-kit is \`drizzle-kit migrate --config\`. Medians of
${REPS}, alternating which goes first. Beyond the committed ${COMMITTED}, each migration creates a
small table and an index. Ours runs one transaction per file under an advisory lock and checks
the integrity file first; drizzle-kit runs all files in one transaction.

${table(
  ["migrations", "ours (process)", "ours (migrate() alone)", "drizzle-kit migrate"],
  results.map((r) => [String(r.n), spread(r.ours), spread(r.inProcess), spread(r.kit)]),
)}

Per added migration (from ${first.n} to ${last.n}): ours ${ms(oursSlope)} (migrate() alone
${ms(slope((r) => r.inProcess))}), drizzle-kit ${ms(kitSlope)}.`,
      ],
    };
  },
};
