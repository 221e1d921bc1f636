// 2. `db up` when everything is up already, and `db status`: budget under 0.5 s each. Both do
//    little work (a pid file, a port, two small queries), so their time is mostly the CLI
//    starting; the start-up section splits that up to show where it goes. And the answers that
//    need no command to run — `db --help`, a usage error, a bad .env — within 2× `node -e 0`:
//    the CLI's entry loads no command's implementation (scripts/commands/table.ts).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../src/testing/server.ts";
import {
  cliEnv,
  DB,
  type Measurement,
  median,
  ms,
  mustRun,
  onCleanup,
  type RunOptions,
  ratio,
  run,
  spread,
  TSX_LOADER,
  table,
  tempDir,
  timeRuns,
} from "./lib.ts";

const RUNS = 7;
const NPM_RUNS = 3;
const BUDGET_MS = 500;

export const warm: Measurement = {
  id: "warm",
  title: "`db up` when up, `db status`",
  async measure({ log }) {
    const root = tempDir("warm");
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    writeFileSync(
      join(root, ".env"),
      `DATABASE_URL=postgres://kata:bench-Passw0rd@127.0.0.1:${pgPort}/kata\nREDIS_URL=redis://127.0.0.1:${redisPort}\n`,
    );
    const env = cliEnv({ KATA_DB_ROOT: root });
    onCleanup(`db down in ${root}`, () => run(DB, ["down", "--volumes"], { env }));
    await mustRun(DB, ["up", "--backend", "embedded"], { env });
    log("stack up; timing");

    const node = process.execPath;
    // Interleaved, so that a noisy moment hits every command alike.
    const samples = { up: [] as number[], status: [] as number[], node: [] as number[] };
    const startup = { tsx: [] as number[], zx: [] as number[], help: [] as number[] };
    // A .env whose DATABASE_URL is no URL: `db status` refuses it before loading anything.
    const badRoot = tempDir("warm-bad-env");
    writeFileSync(
      join(badRoot, ".env"),
      "DATABASE_URL=postgres://kata:kata@127.0.0.1:notaport/kata\n",
    );
    const badEnv = cliEnv({ KATA_DB_ROOT: badRoot });
    const answers = { usage: [] as number[], env: [] as number[] };
    const exits = (code: number) => async (file: string, args: string[], options: RunOptions) => {
      const proc = await run(file, args, options);
      if (proc.code !== code) {
        throw new Error(
          `${file} ${args.join(" ")}: exit ${proc.code}, not ${code}: ${proc.stderr}`,
        );
      }
      return proc.ms;
    };
    for (let i = 0; i < RUNS; i++) {
      samples.up.push((await mustRun(DB, ["up"], { env })).ms);
      samples.status.push((await mustRun(DB, ["status"], { env })).ms);
      samples.node.push((await mustRun(node, ["-e", "0"])).ms);
      // The layers of the CLI's start-up: node + tsx's loader, + zx, + every module of the CLI.
      startup.tsx.push((await mustRun(node, ["--import", TSX_LOADER, "-e", "0"])).ms);
      startup.zx.push(
        (await mustRun(node, ["--import", TSX_LOADER, "--input-type=module", "-e", 'import "zx"']))
          .ms,
      );
      startup.help.push((await mustRun(DB, ["--help"], { env })).ms);
      answers.usage.push(await exits(2)(DB, ["migrate", "--bogus"], { env }));
      answers.env.push(await exits(1)(DB, ["status"], { env: badEnv }));
    }
    const npm = await timeRuns(NPM_RUNS, "npm", ["run", "--silent", "db", "--", "up"], { env });

    const [up, status, bare] = [median(samples.up), median(samples.status), median(samples.node)];
    const floor = `node start: ${ms(bare)} (\`node -e 0\`)`;
    return {
      rows: [
        {
          measurement: "`db up` when already up",
          value: ms(up),
          baseline: floor,
          ratio: ratio(up, bare),
          budget: "< 0.5 s",
          pass: up < BUDGET_MS,
        },
        {
          measurement: "`db status`",
          value: ms(status),
          baseline: floor,
          ratio: ratio(status, bare),
          budget: "< 0.5 s",
          pass: status < BUDGET_MS,
        },
        ...(
          [
            ["`db --help`", startup.help],
            ["a usage error (`db migrate --bogus`, exit 2)", answers.usage],
            ["a `.env` error (`db status`, DATABASE_URL no URL, exit 1)", answers.env],
          ] as const
        ).map(([measurement, samples]) => ({
          measurement,
          value: ms(median(samples)),
          baseline: floor,
          ratio: ratio(median(samples), bare),
          budget: "≤ 2× `node -e 0`",
          pass: median(samples) <= 2 * bare,
        })),
        {
          measurement: "`npm run db -- up` when already up",
          value: ms(median(npm)),
          baseline: `\`scripts/bin/db up\`: ${ms(up)}`,
          ratio: ratio(median(npm), up),
          budget: "— (information)",
        },
      ],
      sections: [
        `### Where a warm \`db\` command's time goes

Medians of ${RUNS} runs (npm: ${NPM_RUNS}), each a new process timed from spawn to exit. Each
\`db\` runs one bundled ES module (scripts/build-cli.mjs, rebuilt when a source changes); the two
tsx rows show what every call paid before, loading the TypeScript sources through tsx and zx's
module tree. \`db --help\`, a usage error and a \`.env\` error load only the entry: the command
table and the CLI's frame (each command's implementation is a chunk of its own, imported when
it runs).

${table(
  ["process", "median (n, min–max)"],
  [
    ["`node -e 0`", spread(samples.node)],
    ["before the bundle: node + tsx loader", spread(startup.tsx)],
    ['before the bundle: node + tsx loader + `import "zx"`', spread(startup.zx)],
    ["`db --help` (the entry only)", spread(startup.help)],
    ["`db migrate --bogus` (usage error)", spread(answers.usage)],
    ["`db status` with a bad .env", spread(answers.env)],
    ["`db status`", spread(samples.status)],
    ["`db up` (already up)", spread(samples.up)],
    ["`npm run db -- up` (already up)", spread(npm)],
  ],
)}`,
      ],
    };
  },
};
