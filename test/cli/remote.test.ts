// A database that is not on this machine is never switched, copied or undone: the migrator's
// refusal stays, names what it found and says what to do there. "Not on this machine" is
// simulated with 127.0.0.2 (loopback, but not one of the hosts the CLI treats as local), a TCP
// relay to the suite's own server.

import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket, connect as tcp } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, dropTestDatabase, testContext } from "../../src/testing/index.ts";
import { testPort } from "../helpers/ports.ts";
import { db, makeProject, oneLineError, type Project } from "./helpers.ts";

let relay: Server;
let relayPort: number;
let local: string;
let remote: string;
let project: Project;
const sockets = new Set<Socket>();

beforeAll(async () => {
  local = await createTestDatabase();
  const target = new URL(local);
  relayPort = await testPort();
  relay = createServer((client) => {
    const upstream = tcp(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(relayPort, "127.0.0.2", resolve));
  const url = new URL(local);
  url.hostname = "127.0.0.2";
  url.port = String(relayPort);
  remote = url.toString();
  project = await makeProject();
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => relay?.close(resolve));
  if (local) await dropTestDatabase(local);
});

/**
 * The server's databases, but for the other test files' own ones (src/testing/database.ts:
 * `kata_test_<12 hex>`), which come and go while files run in parallel. This file's database,
 * and anything made from it (a branch copy is `<name>__kata_<id>`), stays in the comparison.
 */
const databases = async () => {
  const own = new URL(local).pathname.slice(1);
  const otherFiles = (name: string) => name !== own && /^kata_test_[0-9a-f]{12}$/.test(name);
  const sql = postgres(testContext().adminUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql`SELECT datname FROM pg_database ORDER BY datname`)
      .map((r) => r.datname as string)
      .filter((name) => !otherFiles(name));
  } finally {
    await sql.end();
  }
};

describe("a database not on this machine", () => {
  it("with a migration this checkout does not have: refused, named, nothing switched", async () => {
    const when = 1_700_000_000_000 + Number.parseInt(randomBytes(2).toString("hex"), 16);
    const sql = postgres(local, { max: 1, onnotice: () => {} });
    await sql`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (${"f".repeat(64)}, ${when})`;
    await sql.end();
    const before = await databases();

    const result = await db(project.root, ["migrate"], { env: { DATABASE_URL: remote } });
    expect(result.code).toBe(1);
    const name = new URL(local).pathname.slice(1);
    expect(oneLineError(result)).toMatch(
      new RegExp(
        `refusing to migrate: ${name} at 127\\.0\\.0\\.2:${relayPort} has migrations this checkout does not have: created_at ${when} \\(hash ffffffffffff…\\), in no branch or worktree of this repository; migrate it from a checkout that has them`,
      ),
    );
    expect(await databases()).toEqual(before);

    const up = await db(project.root, ["up"], { env: { DATABASE_URL: remote } });
    expect(up.code).toBe(1);
    expect(oneLineError(up)).toMatch(
      /`db up` starts a stack on this machine, but DATABASE_URL points at 127\.0\.0\.2/,
    );
    expect(await databases()).toEqual(before);
  });
});
