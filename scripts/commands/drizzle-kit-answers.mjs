// drizzle-kit's `generate`, run in this process with its rename questions answered from a list,
// for `db generate --rename` without a terminal. drizzle-kit 0.31 asks with hanji, which needs a
// TTY and reads key presses from process.stdin; its programmatic API (drizzle-kit/api) computes
// the SQL but writes no migration, journal or snapshot, so it would not reach the same result.
// Here stdin and stdout claim to be a terminal, each question hanji draws is read from what it
// writes (the same text a person sees), and the answer is given as the key presses a person
// would type: down-arrow to the option, then Enter. A question with no answer on the list ends
// the run with exit code 3 and one line on stderr, `KATA_DB_QUESTION {json}`, which `db generate`
// turns into a message naming the table and columns and the flag that answers it.
//
// Usage: node drizzle-kit-answers.mjs <drizzle-kit bin.cjs> <args…>, with KATA_DB_ANSWERS set to
// a JSON list of { entity: "column" | "table", table?, from?, to } (from absent: "create").

import { createRequire } from "node:module";

const [bin, ...args] = process.argv.slice(2);
const answers = JSON.parse(process.env.KATA_DB_ANSWERS || "[]");
const QUESTION = "KATA_DB_QUESTION";

// A terminal, as far as hanji can tell; raw mode means nothing on a pipe.
process.stdin.isTTY = true;
process.stdout.isTTY = true;
process.stdin.setRawMode = () => process.stdin;
process.stdout.columns ||= 200;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const plain = (text) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
const HEADER =
  /Is (\S+) (\w+)(?: in (\S+) table)? created or renamed from another \w+\?\n((?:.*\n?)*)/;

const write = process.stdout.write.bind(process.stdout);
let answering = false;
process.stdout.write = (chunk, ...rest) => {
  const text = plain(String(chunk));
  const match = HEADER.exec(text);
  if (!match || answering) return write(chunk, ...rest);
  const [, name, entity, table, body] = match;
  const options = (body ?? "")
    .split("\n")
    .map((line) => /^(?:❯ | {2})([+~]) (.+?)\s+(?:create|rename) \w+\s*$/.exec(line))
    .filter(Boolean)
    .map(([, kind, title]) => (kind === "~" ? title.split(" › ")[0].trim() : undefined));
  const bare = (key) => (key ?? "").replace(/^public\./, "");
  const wanted = answers.find(
    (a) =>
      a.entity === entity &&
      bare(a.to) === bare(name) &&
      (entity !== "column" || bare(a.table) === bare(table)),
  );
  const index = wanted
    ? options.findIndex((from) =>
        wanted.from === undefined ? from === undefined : bare(from) === bare(wanted.from),
      )
    : -1;
  if (index < 0) {
    process.stderr.write(
      `${QUESTION} ${JSON.stringify({ entity, name: bare(name), table: table && bare(table), from: options.filter(Boolean).map(bare) })}\n`,
    );
    process.exit(3);
  }
  answering = true;
  setImmediate(() => {
    for (let i = 0; i < index; i++) process.stdin.emit("keypress", "", { name: "down" });
    process.stdin.emit("keypress", "\r", { name: "return" });
    answering = false;
  });
  return true;
};

process.argv = [process.argv[0], bin, ...args];
createRequire(import.meta.url)(bin);
