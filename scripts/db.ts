// `db`: the local database stack of @kata/db in one command. One module per subcommand in
// scripts/commands/, listed in scripts/commands/table.ts; this file is only the help, the argument
// check and the exit code. Light: a command's implementation, and src/connection.ts (postgres),
// are imported only once the command line is known to be good (docs/internals.md, "Start-up").
// Reached as `npm run db -- <cmd>` and, with scripts/bin on PATH (Nix shell, direnv), `db <cmd>`.

import { parseArgs } from "node:util";
import type { Args, Command } from "./cli/command.ts";
import { print, report, say, UsageError } from "./cli/task.ts";
import { commands } from "./commands/table.ts";

const HELP = `db — PostgreSQL + Redis for @kata/db, with or without Docker

Usage: db <command> [options]        (without the Nix shell: npm run db -- <command> [options])

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

\`db <command> --help\` shows a command's options.

Environment (from .env, created from .env.example by \`db up\`; real variables win):
  DATABASE_URL   the PostgreSQL every command uses
  REDIS_URL      the Redis of the local stack
  DB_BACKEND     docker, native or embedded (empty: automatic)
  KATA_DB_ROOT   the project directory holding .env and .data/ (default: this package)
  PGCONNECT_TIMEOUT  seconds to wait for PostgreSQL (default 10; connect_timeout in the URL wins)
  DEBUG          print stack traces of failures

Exit codes: 0 success; 1 failure, refusal, or \`status\` not clean; 2 wrong usage.`;

function parse(command: Command, argv: string[]): Args {
  if (command.passThrough) return { _: argv };
  const flags = command.flags ?? {};
  const options: Record<string, { type: "string" | "boolean"; multiple?: true; short?: string }> =
    {};
  // Given twice, a string option is a list (`--rename a=b --rename c=d`), given once a string.
  for (const name of flags.string ?? []) options[name] = { type: "string", multiple: true };
  for (const name of flags.boolean ?? []) options[name] = { type: "boolean" };
  for (const [short, name] of Object.entries(flags.alias ?? {})) {
    const option = options[name];
    if (option) option.short = short;
  }
  // Lenient first, to name an unknown option as it was written; then strict, for the values.
  const { tokens } = parseArgs({ args: argv, options, strict: false, tokens: true });
  const unknown = tokens.find((t) => t.kind === "option" && !(t.name in options));
  if (unknown?.kind === "option") {
    throw new UsageError(
      `unknown option ${unknown.rawName} for \`db ${command.name}\`: see \`db ${command.name} --help\``,
    );
  }
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (error) {
    // e.g. "Option '--backend <value>' argument missing": node's own words, on one line.
    throw new UsageError(`${(error as Error).message} for \`db ${command.name}\``);
  }
  const extra = parsed.positionals[command.maxArgs ?? 0];
  if (extra !== undefined)
    throw new UsageError(`unexpected argument '${extra}' for \`db ${command.name}\``);
  const values = Object.entries(parsed.values).map(([name, value]) => [
    name,
    Array.isArray(value) && value.length === 1 ? value[0] : value,
  ]);
  return { ...Object.fromEntries(values), _: parsed.positionals };
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    print(HELP);
    return 0;
  }
  if (!name) {
    say(HELP);
    return 2;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command '${name}': see \`db --help\``);
    const wantsHelp = command.passThrough
      ? rest[0] === "--help"
      : rest.includes("--help") || rest.includes("-h");
    if (wantsHelp) {
      print(`${command.help}\n`);
      return 0;
    }
    const args = parse(command, rest);
    command.before?.(args);
    if (command.connects?.(args) === false) {
      const { default: runner } = await command.load();
      return (await runner.run(args)) ?? 0;
    }
    const [{ default: runner }, { withConnectDeadline }] = await Promise.all([
      command.load(),
      import("../src/connection.ts"),
    ]);
    // One connect deadline for all the command's connections (src/connection.ts): against a
    // server that does not answer, a command ends after it, however often it would connect.
    return (await withConnectDeadline(() => runner.run(args))) ?? 0;
  } catch (error) {
    return report(error);
  }
}

/**
 * Resolves once everything written so far has been taken by the kernel. Where stdout or stderr is
 * a pipe or socket whose reader is slow (a pager, a busy test runner), Node keeps what the kernel
 * will not take yet in a queue, and process.exit drops that queue: `db migrate --plan` once lost
 * the last file of its plan that way, exit code 0.
 */
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write("", () => resolve()));

// process.exit, not exitCode: an idle connection or timer must never keep a finished command
// alive. But only after the output has gone.
const code = await main(process.argv.slice(2));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
