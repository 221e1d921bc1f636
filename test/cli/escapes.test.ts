// No terminal control codes where there is no terminal, and NO_COLOR honoured where there is one
// (issue #21). Real commands as processes: with stdout and stderr pipes, not one ESC byte may
// come out — our own colour and spinner, drizzle-kit's prompt library (hanji: cursor codes even to
// a pipe), squawk, a failure. On a terminal (util-linux `script` gives the command a pty) colour
// is drawn, unless NO_COLOR is set.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { which } from "../../scripts/basics/system.ts";
import { copyProject } from "../helpers/project-copy.ts";
import { makeProject, PACKAGE_ROOT, type Run, runProcess } from "./helpers.ts";

const DB = join(PACKAGE_ROOT, "scripts", "bin", "db");
/** The environment of a person's shell: no FORCE_COLOR=0 (test/cli/helpers.ts sets it), no NO_COLOR. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of [
    "FORCE_COLOR",
    "NO_COLOR",
    "DATABASE_URL",
    "REDIS_URL",
    "DB_BACKEND",
    "DEBUG",
  ]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

const ESC = "\x1b";
function expectPlain(run: Run) {
  expect(run.stdout.includes(ESC), `stdout: ${JSON.stringify(run.stdout)}`).toBe(false);
  expect(run.stderr.includes(ESC), `stderr: ${JSON.stringify(run.stderr)}`).toBe(false);
}

describe("off a terminal: no escape sequence at all", () => {
  let copy: string;
  let project: Awaited<ReturnType<typeof makeProject>>;
  beforeAll(async () => {
    copy = mkdtempSync(join(tmpdir(), "kata-db-escapes-"));
    copyProject(copy);
    project = await makeProject();
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  const inCopy = (args: string[], extra: Record<string, string> = {}) =>
    runProcess(join(copy, "scripts", "bin", "db"), args, shellEnv(extra));

  // FORCE_COLOR=1 as well: a forced colour never reaches a pipe either.
  it.each<Record<string, string>>([{}, { FORCE_COLOR: "1" }])(
    "db --help, a usage error, db status not clean (%j)",
    async (extra) => {
      const env = shellEnv({ KATA_DB_ROOT: project.root, ...extra });
      const help = await runProcess(DB, ["--help"], env);
      expect(help.code).toBe(0);
      expectPlain(help);
      const usage = await runProcess(DB, ["migrate", "--bogus"], env);
      expect(usage.code).toBe(2);
      expectPlain(usage);
      // Nothing listens on the project's port: the table has its ✖ marks, exit 1.
      const status = await runProcess(DB, ["status"], env);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain("postgres    ✖");
      expectPlain(status);
    },
  );

  it("db generate --rename (drizzle-kit's prompts answered) and db check with a finding", async () => {
    const identity = join(copy, "src", "schema", "identity.ts");
    const source = readFileSync(identity, "utf8");
    writeFileSync(
      identity,
      source.replace("slug: text()", "handle: text()").replaceAll("t.slug", "t.handle"),
    );
    const generate = await inCopy(["generate", "--rename", "teams.slug=handle", "--name", "x"]);
    expect(generate.code, generate.stderr).toBe(0);
    expect(generate.stdout).toContain("will be renamed");
    expectPlain(generate);

    // A schema change without its migration: the drift rule's finding, exit 1.
    writeFileSync(
      identity,
      readFileSync(identity, "utf8").replace(
        "handle: text()",
        "handle: text(),\n    motto: text()",
      ),
    );
    const check = await inCopy(["check"]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("a schema change with no migration");
    expectPlain(check);
  }, 60_000);
});

/** `command` run on a pseudo-terminal by util-linux `script`; what the terminal received. */
function onTerminal(command: string[], env: NodeJS.ProcessEnv): string {
  const quoted = command.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  try {
    return execFileSync("script", ["-qfec", quoted, "/dev/null"], { env, encoding: "utf8" });
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? "");
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: an SGR (colour) sequence
const SGR = /\x1b\[[0-9;]*m/;

describe.skipIf(!which("script"))("on a terminal", () => {
  it("colour is drawn, and not with NO_COLOR set", () => {
    const command = [DB, "migrate", "--bogus"];
    const coloured = onTerminal(command, shellEnv({ TERM: "xterm" }));
    expect(coloured).toContain("unknown option --bogus");
    expect(coloured).toMatch(SGR);
    const plain = onTerminal(command, shellEnv({ TERM: "xterm", NO_COLOR: "1" }));
    expect(plain).toContain("unknown option --bogus");
    expect(plain).not.toMatch(SGR);
  });
});
