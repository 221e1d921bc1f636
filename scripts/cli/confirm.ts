// Asking before a destructive step: on a terminal, a y/N question; without one, only `--yes`
// goes ahead (a script must say so on purpose), else a one-line refusal naming the flag.

import { createInterface } from "node:readline/promises";
import { CliError } from "./task.ts";

export async function confirm(what: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new CliError(`${what}: refusing without a terminal to ask on; add --yes to go ahead`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}. Go ahead? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError("nothing deleted", 1);
  } finally {
    rl.close();
  }
}
