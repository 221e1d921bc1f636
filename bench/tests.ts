// 7. `npm test` wall time, and the per-test-file database: a clone of the migrated template
//    (CREATE DATABASE … TEMPLATE, what test/helpers/database.ts does for every test file)
//    against what a file would need without the template: an empty database and the migrator.

import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import postgres from "postgres";
import { migrate } from "../src/migrator.ts";
import { startTestServer } from "../test/setup/server.ts";
import {
  type Measurement,
  median,
  ms,
  onCleanup,
  PACKAGE_ROOT,
  ratio,
  run,
  spread,
  table,
  tempDir,
  timed,
} from "./lib.ts";

const CLONES = 10;
const MIGRATES = 3;
const TEST_RUNS = 1; // ~1 minute each; one keeps the whole benchmark near 5 minutes

const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

interface VitestJson {
  numFailedTests: number;
  testResults: { name: string; startTime: number; endTime: number }[];
}

export const tests: Measurement = {
  id: "tests",
  title: "`npm test` and the per-file database clone",
  async measure({ log }) {
    const server = await startTestServer();
    const stopServer = onCleanup("tests' test server", () => server.stop());
    const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
    const closeAdmin = onCleanup("admin connection", () => admin.end());
    await admin.unsafe("CREATE DATABASE bench_template");
    await migrate({ url: withDatabase(server.adminUrl, "bench_template") });

    // Clones one after another and dropped afterwards, as test files clone when they start and
    // drop when they end (a DROP DATABASE between clones would slow the next one down).
    const clones: number[] = [];
    for (let i = 0; i < CLONES; i++) {
      const clone = await timed(() =>
        admin.unsafe(`CREATE DATABASE bench_clone_${i} TEMPLATE bench_template`),
      );
      clones.push(clone.ms);
    }
    const migrates: number[] = [];
    for (let i = 0; i < MIGRATES; i++) {
      const fresh = await timed(async () => {
        await admin.unsafe(`CREATE DATABASE bench_fresh_${i}`);
        await migrate({ url: withDatabase(server.adminUrl, `bench_fresh_${i}`) });
      });
      migrates.push(fresh.ms);
    }
    log(`clone ${ms(median(clones))}, fresh + migrate ${ms(median(migrates))}`);
    // Idle or not, a second server must not share the machine with npm test's.
    await closeAdmin();
    await stopServer();

    // npm test as a developer runs it; the JSON report (besides the usual output) gives the
    // per-file times.
    const out = tempDir("vitest");
    const walls: number[] = [];
    let report: VitestJson | undefined;
    for (let i = 0; i < TEST_RUNS; i++) {
      const jsonFile = join(out, `report-${i}.json`);
      const args = [
        "test",
        "--",
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${jsonFile}`,
      ];
      const proc = await run("npm", args, { env: { ...process.env, FORCE_COLOR: "0" } });
      if (proc.code !== 0) {
        throw new Error(
          `npm test failed (exit ${proc.code}): ${proc.stdout.trim().split("\n").slice(-3).join(" ")}`,
        );
      }
      walls.push(proc.ms);
      report = JSON.parse(readFileSync(jsonFile, "utf8")) as VitestJson;
      log(`npm test ${ms(proc.ms)}`);
    }
    const files = (report?.testResults ?? [])
      .map((f) => ({ name: relative(PACKAGE_ROOT, f.name), ms: f.endTime - f.startTime }))
      .sort((a, b) => b.ms - a.ms);
    const slowest = files[0];
    const wall = median(walls);
    const sum = files.reduce((total, f) => total + f.ms, 0);

    return {
      rows: [
        {
          measurement: "`npm test` wall time",
          value: ms(wall),
          baseline: slowest ? `slowest file: ${ms(slowest.ms)} (${slowest.name})` : "—",
          ratio: slowest ? ratio(wall, slowest.ms) : "—",
          budget: "— (information; must pass)",
        },
        {
          measurement: "per-test-file database (clone of the template)",
          value: ms(median(clones)),
          baseline: `empty database + migrate: ${ms(median(migrates))}`,
          ratio: ratio(median(clones), median(migrates)),
          budget: "— (information)",
        },
      ],
      sections: [
        `### \`npm test\` and its databases

\`npm test\` ran ${TEST_RUNS}× (wall ${walls.map(ms).join(", ")}); its ${files.length} test files took
${ms(sum)} added up, run in parallel by vitest's forks pool. The per-file database: median of
${CLONES} \`CREATE DATABASE … TEMPLATE\` of a migrated template on a throwaway server (fsync off), as
test/helpers/database.ts does, against ${MIGRATES} runs of an empty database plus our migrator.

${table(
  ["slowest test files", "duration"],
  files.slice(0, 5).map((f) => [f.name, ms(f.ms)]),
)}

Clone: ${spread(clones)}; empty + migrate: ${spread(migrates)}.`,
      ],
    };
  },
};
