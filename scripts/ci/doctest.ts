// The doc-test: runs the command blocks and TypeScript examples of README.md and docs/*.md in a
// scratch clone of this repository, as rustdoc runs a crate's examples, and checks every relative
// link and #anchor in them. A block's fence decides what happens to it (docs/testing.md, "The
// examples in these docs run"): ```sh runs, ```sh fails must exit non-zero, ```sh docker runs when
// an engine answers with the images, ```ts runs with tsx, ```ts file=PATH is written for a later
// block, ```sh illustration and any other language are not run.
//
//   npx tsx scripts/ci/doctest.ts [FILE…]   every file (or the named ones), from HEAD
//     --working-tree   test the working tree as it is (tracked and untracked files), not HEAD
//     --keep           keep the scratch folder (its path is printed)
//     --list           print each block and what would happen to it; run nothing
//
// Each file's blocks run in order in one bash session (working directory and variables carry),
// in a clone of its own: README.md's first (its first block is `npm ci`), then each docs file's,
// with README's node_modules linked in. Exit 0 when every run block passed and every link
// resolves, 1 otherwise, 2 on wrong usage.

import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statfsSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const SOURCE = resolve(dirname(new URL(import.meta.url).pathname), "..", "..");
/** A block running longer than this is stopped, and fails (a hung command must not hang CI). */
const BLOCK_TIMEOUT_S = Number(process.env.DOCTEST_BLOCK_TIMEOUT ?? 600);
const SHELLS = new Set(["sh", "bash", "shell"]);
const TYPESCRIPT = new Set(["ts", "typescript"]);

// ── blocks ──────────────────────────────────────────────────────────────────────────────────────

type Kind = "sh" | "fails" | "docker" | "ts" | "write" | "illustration" | "other";

interface Block {
  file: string;
  /** The line of the opening fence (1-based); its content starts on the next line. */
  line: number;
  /** The line of the closing fence. */
  end: number;
  info: string;
  kind: Kind;
  /** For ```ts file=PATH. */
  path?: string;
  content: string[];
}

/** The fenced blocks of a Markdown file (CommonMark fences, also indented inside list items). */
export function parseBlocks(file: string, text: string): { blocks: Block[]; errors: string[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  const errors: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const [, indent = "", fence = "", rest = ""] = open;
    if (fence[0] === "`" && rest.includes("`")) continue; // an inline code span, not a fence
    const close = new RegExp(`^\\s*${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j] ?? "")) j++;
    const content = lines
      .slice(i + 1, j)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    const info = rest.trim();
    const [lang = "", ...attrs] = info.split(/\s+/);
    const block: Block = { file, line: i + 1, end: j + 1, info, kind: "other", content };
    const bad = (attr: string) =>
      errors.push(`${file}:${i + 1}: unknown fence attribute \`${attr}\` in \`${fence}${info}\``);
    if (SHELLS.has(lang)) {
      block.kind = "sh";
      for (const attr of attrs) {
        if (attr === "illustration" || attr === "fails" || attr === "docker") block.kind = attr;
        else bad(attr);
      }
    } else if (TYPESCRIPT.has(lang)) {
      block.kind = "ts";
      for (const attr of attrs) {
        if (attr === "illustration") block.kind = "illustration";
        else if (attr.startsWith("file=") && attr.length > 5) {
          block.kind = "write";
          block.path = attr.slice(5);
        } else bad(attr);
      }
    }
    if (j >= lines.length) errors.push(`${file}:${i + 1}: a fence that is never closed`);
    blocks.push(block);
    i = j;
  }
  return { blocks, errors };
}

// ── links ───────────────────────────────────────────────────────────────────────────────────────

/** GitHub's anchor of a heading: its text lower-cased, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/`([^`]*)`/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[*]/g, "");
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? "");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every relative link of a Markdown file that does not resolve, as `file:line: why`. */
function brokenLinks(root: string, file: string): { checked: number; broken: string[] } {
  const text = readFileSync(join(root, file), "utf8");
  const broken: string[] = [];
  let checked = 0;
  let inFence = false;
  text.split("\n").forEach((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) return;
    const prose = line.replace(/``[^`]+``|`[^`]+`/g, (code) =>
      // keep [`x`](y) links: drop only code spans that are not a link's text
      /^`[^`]*`$/.test(code) ? "x" : "",
    );
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] ?? "";
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      const [path = "", anchor] = target.split("#", 2);
      const resolved = path ? join(dirname(join(root, file)), path) : join(root, file);
      const where = `${file}:${index + 1}: ${target}`;
      if (!existsSync(resolved)) {
        broken.push(`${where}: no such file`);
      } else if (anchor !== undefined && resolved.endsWith(".md")) {
        if (!anchorsOf(readFileSync(resolved, "utf8")).has(anchor)) {
          broken.push(`${where}: no heading with that anchor in ${relative(root, resolved)}`);
        }
      }
    }
  });
  return { checked, broken };
}

// ── the scratch project ─────────────────────────────────────────────────────────────────────────

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-15);
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${result.status})\n${output.join("\n")}`,
    );
  }
  return result.stdout.trim();
}

/** In memory when /dev/shm has room (a clone and npm ci make thousands of files), else tmpdir. */
function scratchParent(): string {
  try {
    const fs = statfsSync("/dev/shm");
    if (fs.bavail * fs.bsize > 3 * 1024 ** 3) return "/dev/shm";
  } catch {}
  return tmpdir();
}

function docker(): { usable: boolean; reason: string } {
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    encoding: "utf8",
    timeout: 15_000,
  });
  if (info.status !== 0) return { usable: false, reason: "no Docker engine answers" };
  const images = spawnSync("docker", ["image", "inspect", "postgres:18", "redis:7"], {
    stdio: "ignore",
    timeout: 15_000,
  });
  if (images.status !== 0) {
    return {
      usable: false,
      reason: `a Docker engine answers (${info.stdout.trim()}) without the postgres:18 and redis:7 images`,
    };
  }
  return {
    usable: true,
    reason: `a Docker engine answers (${info.stdout.trim()}) with the images`,
  };
}

// ── one file's session ──────────────────────────────────────────────────────────────────────────

const LIB = `# The doc-test's helpers, sourced by every session (scripts/ci/doctest.ts).
__doctest_begin() { printf 'begin %s %s\\n' "$1" "$EPOCHREALTIME" >&3; printf '\\n── doctest: %s:%s\\n' "$DOCTEST_FILE" "$1"; }
__doctest_end() { printf 'end %s %s\\n' "$1" "$EPOCHREALTIME" >&3; }
__doctest_skip() { printf 'skip %s %s\\n' "$1" "$2" >&3; }
__doctest_failed_as_expected() {
  if [ "$1" -eq 0 ]; then printf 'unexpected-success %s\\n' "$2" >&3; exit 97; fi
  printf 'end %s %s %s\\n' "$2" "$EPOCHREALTIME" "$1" >&3
}
# A TypeScript block, padded with blank lines so that tsx's line numbers are the Markdown file's.
__doctest_ts() {
  __doctest_begin "$1"
  local file
  file="$PWD/.doctest-$(basename "$DOCTEST_FILE" .md)-$1.ts"
  { for ((i = 0; i < $1; i++)); do echo; done; cat; } >"$file"
  local status=0
  "$DOCTEST_TSX" "$file" || status=$?
  rm -f "$file"
  [ "$status" -eq 0 ] || return "$status"
  __doctest_end "$1"
}
__doctest_write() {
  __doctest_begin "$1"
  mkdir -p "$(dirname "$2")"
  cat >"$2"
  __doctest_end "$1"
}
trap '__doctest_status=$?; printf "err %s %s\\n" "$LINENO" "$__doctest_status" >&3' ERR
set -eo pipefail
`;

const TERMINATOR = "__DOCTEST_BLOCK_END__";

/** A bash script whose line N is Markdown line N, so that bash's $LINENO names the docs' line. */
function sessionScript(lineCount: number, blocks: Block[], skip: (b: Block) => string | undefined) {
  const script: string[] = Array.from({ length: lineCount + 1 }, () => "");
  script[0] = `source "$DOCTEST_LIB"`;
  for (const block of blocks) {
    const at = block.line - 1;
    if (at === 0) throw new Error(`${block.file}:1: a block on the first line`);
    const reason = skip(block);
    if (reason !== undefined) {
      if (reason) script[at] = `__doctest_skip ${block.line} ${JSON.stringify(reason)}`;
      continue;
    }
    const body = (from: number) => {
      for (const [k, l] of block.content.entries()) script[from + k] = l;
    };
    if (block.kind === "ts" || block.kind === "write") {
      if (block.content.includes(TERMINATOR))
        throw new Error(`${block.file}:${block.line}: a line ${TERMINATOR}`);
      script[at] =
        block.kind === "ts"
          ? `__doctest_ts ${block.line} <<'${TERMINATOR}'`
          : `__doctest_write ${block.line} ${JSON.stringify(block.path)} <<'${TERMINATOR}'`;
      body(at + 1);
      script[block.end - 1] = TERMINATOR;
    } else if (block.kind === "fails") {
      script[at] = `__doctest_begin ${block.line}; set +e; ( set -e`;
      body(at + 1);
      script[block.end - 1] = `); __doctest_failed_as_expected $? ${block.line}; set -e`;
    } else {
      script[at] = `__doctest_begin ${block.line}`;
      body(at + 1);
      script[block.end - 1] = `__doctest_end ${block.line}`;
    }
  }
  return `${script.join("\n")}\n`;
}

type Outcome =
  | { block: Block; result: "ran"; seconds: number }
  | { block: Block; result: "skipped"; reason: string }
  | { block: Block; result: "failed"; why: string; output: string[] }
  | { block: Block; result: "not reached" };

async function runSession(options: {
  file: string;
  root: string;
  blocks: Block[];
  env: NodeJS.ProcessEnv;
  scratch: string;
  dockerUsable: boolean;
  dockerReason: string;
}): Promise<Outcome[]> {
  const { file, root, blocks, env, scratch } = options;
  const text = readFileSync(join(root, file), "utf8");
  const lines = text.split("\n");
  const skip = (b: Block): string | undefined => {
    if (b.kind === "other") return "";
    if (b.kind === "illustration") return "illustration: not run";
    if (b.kind === "docker" && !options.dockerUsable)
      return `docker: skipped, ${options.dockerReason}`;
    return undefined;
  };
  const name = file.replaceAll("/", "_");
  const scriptPath = join(scratch, `${name}.session.sh`);
  const progressPath = join(scratch, `${name}.progress`);
  const logPath = join(scratch, `${name}.log`);
  writeFileSync(scriptPath, sessionScript(lines.length, blocks, skip));
  const log = openSync(logPath, "w");
  const progress = openSync(progressPath, "w");
  const child = spawn("bash", ["--noprofile", "--norc", scriptPath], {
    cwd: root,
    env: { ...env, DOCTEST_FILE: file },
    stdio: ["ignore", log, log, progress],
    detached: true, // a process group of its own: a block past its time is stopped with its children
  });
  closeSync(log);
  closeSync(progress);
  let timedOut: number | undefined;
  const watch = setInterval(() => {
    const events = readFileSync(progressPath, "utf8").trim().split("\n");
    const last = events.at(-1)?.split(" ");
    if (last?.[0] !== "begin") return;
    if (Date.now() / 1000 - Number(last[2]) > BLOCK_TIMEOUT_S && child.pid) {
      timedOut = Number(last[1]);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
  }, 1000);
  const code: number = await new Promise((done) =>
    child.on("exit", (c, s) => done(c ?? (s ? 128 : 1))),
  );
  clearInterval(watch);

  const events = readFileSync(progressPath, "utf8").trim().split("\n").filter(Boolean);
  const logLines = readFileSync(logPath, "utf8").split("\n");
  const began = new Map<number, number>();
  const ended = new Map<number, number>();
  const skipped = new Map<number, string>();
  const errors: { line: number; status: number }[] = [];
  let unexpected: number | undefined;
  for (const event of events) {
    const [what = "", at = "0", ...rest] = event.split(" ");
    const line = Number(at);
    if (what === "begin") began.set(line, Number(rest[0]));
    else if (what === "end") ended.set(line, Number(rest[0]));
    else if (what === "skip") skipped.set(line, rest.join(" ").replace(/^"|"$/g, ""));
    else if (what === "err") errors.push({ line, status: Number(rest[0]) });
    else if (what === "unexpected-success") unexpected = line;
  }
  const outputOf = (block: Block) => {
    const marker = logLines.lastIndexOf(`── doctest: ${file}:${block.line}`);
    return marker < 0
      ? []
      : logLines.slice(marker + 1).filter((l) => !l.startsWith("── doctest: "));
  };
  return blocks
    .filter((b) => b.kind !== "other")
    .map((block): Outcome => {
      const reason = skipped.get(block.line);
      if (reason !== undefined) return { block, result: "skipped", reason };
      const start = began.get(block.line);
      const stop = ended.get(block.line);
      if (start !== undefined && stop !== undefined) {
        return { block, result: "ran", seconds: stop - start };
      }
      if (start === undefined) return { block, result: "not reached" };
      let why: string;
      if (timedOut === block.line) why = `still running after ${BLOCK_TIMEOUT_S} s: stopped`;
      else if (unexpected === block.line) why = "exited 0, where the fence says it fails";
      else {
        const err = errors.filter((e) => e.line > block.line && e.line < block.end).at(-1);
        why = err
          ? `exit ${err.status} at line ${err.line}: ${(lines[err.line - 1] ?? "").trim()}`
          : `exit ${code}`;
      }
      return { block, result: "failed", why, output: outputOf(block).slice(-30) };
    });
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "working-tree": { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
    },
  });
  const all = [
    "README.md",
    ...readdirSync(join(SOURCE, "docs"))
      .filter((f) => f.endsWith(".md"))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  const unknown = positionals.filter((f) => !all.includes(f));
  if (unknown.length) {
    console.error(`doctest: not a file it tests: ${unknown.join(", ")} (README.md, docs/*.md)`);
    return 2;
  }
  const files = positionals.length ? all.filter((f) => positionals.includes(f)) : all;
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0);

  if (values.list) {
    const parsed = files.map((f) => ({
      file: f,
      ...parseBlocks(f, readFileSync(join(SOURCE, f), "utf8")),
    }));
    for (const { file, blocks, errors } of parsed) {
      console.log(file);
      for (const b of blocks)
        console.log(`  ${file}:${b.line}  ${b.kind.padEnd(12)} ${b.info || "(no language)"}`);
      for (const e of errors) console.log(`  ✖ ${e}`);
    }
    return parsed.some((p) => p.errors.length) ? 1 : 0;
  }

  const scratch = mkdtempSync(join(scratchParent(), "kata-db-doctest-"));
  // As root, PostgreSQL runs as `postgres`, which must reach the clones' .data/ (mkdtemp gives 0700).
  chmodSync(scratch, 0o755);
  for (const dir of ["cache", "state", "tmp", "home-config"])
    mkdirSync(join(scratch, dir), { mode: 0o755 });
  chmodSync(join(scratch, "tmp"), 0o1777);
  writeFileSync(join(scratch, "lib.sh"), LIB);
  writeFileSync(
    join(scratch, "home-config", "gitconfig"),
    "[user]\n\tname = Doc Test\n\temail = doctest@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
  );

  const head = run("git", ["-C", SOURCE, "rev-parse", "HEAD"]);
  const dirty = run("git", ["-C", SOURCE, "status", "--porcelain"]) !== "";
  const { usable: dockerUsable, reason: dockerReason } = docker();
  // Variables of the caller that would change what the docs do: the CLI's settings, and npm's
  // (npx and `npm run` export npm_config_* that a nested `npm ci` would take as its own).
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(npm_|DATABASE_URL$|REDIS_URL$|DB_BACKEND$|KATA_DB_ROOT$|DEBUG$|TEST_DATABASE_URL$|PGCONNECT_TIMEOUT$|INIT_CWD$|NODE_OPTIONS$|GIT_)/.test(
        key,
      )
    )
      continue;
    env[key] = value;
  }
  Object.assign(env, {
    DOCTEST_LIB: join(scratch, "lib.sh"),
    XDG_CACHE_HOME: join(scratch, "cache"),
    XDG_STATE_HOME: join(scratch, "state"),
    TMPDIR: join(scratch, "tmp"),
    GIT_CONFIG_GLOBAL: join(scratch, "home-config", "gitconfig"),
    GIT_CONFIG_NOSYSTEM: "1",
    // An editor that fails, as one does without a terminal: a documented command that would open
    // one (`git rebase --continue` did) fails here as it fails for a reader's script.
    GIT_EDITOR: "false",
    NO_COLOR: "1",
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  });
  // An engine that answers but cannot run the stack (no images, no registry) would make every
  // automatic `db up` fail; without an engine `db up` chooses by itself.
  if (!dockerUsable && dockerReason.startsWith("a Docker engine")) env.DB_BACKEND = "embedded";

  console.log(
    `doctest: ${files.length} file(s) of ${values["working-tree"] ? "the working tree" : `HEAD ${head.slice(0, 10)}`}${dirty && !values["working-tree"] ? " (uncommitted changes not included: --working-tree)" : ""}, in ${scratch}`,
  );
  console.log(
    `doctest: docker: ${dockerReason}${env.DB_BACKEND ? "; the sessions run with DB_BACKEND=embedded" : ""}`,
  );

  const clones: string[] = [];
  const clone = (name: string) => {
    const dir = join(scratch, name);
    run("git", ["clone", "--quiet", "--no-hardlinks", SOURCE, dir], { env });
    run("git", ["-C", dir, "checkout", "--quiet", "-B", "main", head], { env });
    for (const branch of run("git", ["-C", dir, "branch", "--format=%(refname:short)"]).split(
      "\n",
    )) {
      if (branch && branch !== "main") run("git", ["-C", dir, "branch", "--quiet", "-D", branch]);
    }
    run("git", ["-C", dir, "remote", "remove", "origin"]);
    if (values["working-tree"]) {
      // The working tree's files over the clone, committed there so that it starts clean.
      const listed = run("git", [
        "-C",
        SOURCE,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
      ]);
      for (const path of listed.split("\0").filter(Boolean)) {
        const from = join(SOURCE, path);
        const to = join(dir, path);
        if (!existsSync(from)) rmSync(to, { force: true });
        else {
          mkdirSync(dirname(to), { recursive: true });
          writeFileSync(to, readFileSync(from));
          chmodSync(to, statSync(from).mode & 0o777);
        }
      }
      run("git", ["-C", dir, "add", "-A"], { env });
      spawnSync(
        "git",
        [
          "-C",
          dir,
          "-c",
          "core.hooksPath=/dev/null",
          "commit",
          "--quiet",
          "--no-verify",
          "-m",
          "doctest: the working tree",
        ],
        { env },
      );
    }
    clones.push(dir);
    return dir;
  };

  const outcomes: Outcome[] = [];
  const setupFailures: string[] = [];
  let base: string | undefined;
  try {
    for (const file of files) {
      console.log(file);
      let root: string;
      try {
        if (file === "README.md") {
          root = clone("readme");
          base = root;
        } else {
          if (!base || !existsSync(join(base, "node_modules"))) {
            // README.md not run, or its `npm ci` did not happen: install as it says.
            base = base ?? clone("base");
            console.log(
              `  • npm ci in ${basename(base)}: the clone the docs files share node_modules with`,
            );
            run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: base, env });
          }
          root = clone(file.replace(/^docs\//, "").replace(/\.md$/, ""));
          symlinkSync(join(base, "node_modules"), join(root, "node_modules"));
          run("node", [".husky/install.mjs"], { cwd: root, env }); // what npm ci's prepare does
        }
      } catch (error) {
        setupFailures.push(`${file}: ${(error as Error).message}`);
        console.log(`  ✖ ${file}: setting up its clone failed: ${(error as Error).message}`);
        continue;
      }
      // The blocks as the clone has them (HEAD, or the working tree), not as this checkout has them.
      const { blocks, errors } = parseBlocks(file, readFileSync(join(root, file), "utf8"));
      for (const e of errors) console.log(`  ✖ ${e}`);
      if (file !== "README.md" && blocks.some((b) => b.kind === "ts")) {
        // @kata/db resolves in this checkout through the package's exports, to dist/.
        run("npm", ["run", "--silent", "build"], { cwd: root, env });
      }
      const sessionEnv = {
        ...env,
        PATH: `${join(root, "scripts", "bin")}:${env.PATH ?? ""}`,
        DOCTEST_TSX: join(base ?? root, "node_modules", ".bin", "tsx"),
      };
      const results = await runSession({
        file,
        root,
        blocks,
        env: sessionEnv,
        scratch,
        dockerUsable,
        dockerReason,
      });
      for (const o of results) {
        const at = `${o.block.file}:${o.block.line}`;
        const what = o.block.info;
        if (o.result === "ran") console.log(`  ✔ ${at} ${what} (${o.seconds.toFixed(1)} s)`);
        else if (o.result === "skipped")
          console.log(`  • ${at} ${what}: ${o.reason.replace(/^(illustration|docker): /, "")}`);
        else if (o.result === "not reached")
          console.log(`  • ${at} ${what}: not reached (an earlier block failed)`);
        else {
          console.log(`  ✖ ${at} ${what}: ${o.why}`);
          for (const l of o.output) console.log(`      │ ${l}`);
        }
      }
      outcomes.push(...results);
      for (const e of errors) setupFailures.push(e);
    }
  } finally {
    // Every stack a block started goes, with its data; then anything still running from here.
    for (const dir of clones) {
      if (!existsSync(join(dir, ".env"))) continue;
      spawnSync(join(dir, "scripts", "bin", "db"), ["down", "--volumes"], {
        cwd: dir,
        env: { ...env, PATH: `${join(dir, "scripts", "bin")}:${env.PATH ?? ""}` },
        stdio: "ignore",
        timeout: 120_000,
      });
    }
    stopLeftovers(scratch);
    if (values.keep) console.log(`doctest: kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }

  const links = files.map((f) => brokenLinks(SOURCE, f));
  const broken = links.flatMap((l) => l.broken);
  for (const b of broken) console.log(`  ✖ link ${b}`);
  const count = (r: Outcome["result"]) => outcomes.filter((o) => o.result === r).length;
  const skippedBy = new Map<string, number>();
  for (const o of outcomes) {
    if (o.result === "skipped") {
      const kind = o.reason.split(":")[0] ?? "";
      skippedBy.set(kind, (skippedBy.get(kind) ?? 0) + 1);
    }
  }
  const failed = count("failed") + setupFailures.length;
  const skippedText = [...skippedBy].map(([k, n]) => `${n} ${k}`).join(", ");
  console.log(
    `doctest: ${count("ran")} blocks ran, ${count("skipped")} not run${skippedText ? ` (${skippedText})` : ""}, ${count("not reached")} not reached, ${failed} failed; ${links.reduce((n, l) => n + l.checked, 0)} links, ${broken.length} broken; ${seconds()} s`,
  );
  for (const o of outcomes)
    if (o.result === "failed") console.log(`doctest: ✖ ${o.block.file}:${o.block.line}: ${o.why}`);
  return failed || broken.length ? 1 : 0;
}

/** Processes still running in the scratch folder (a background copy, a server): by pid. */
function stopLeftovers(scratch: string) {
  if (!existsSync("/proc")) return;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {}
      if (cmdline.includes(scratch) || cwd.startsWith(scratch)) pids.push(pid);
    } catch {}
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

process.exitCode = await main();
