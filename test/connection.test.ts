// src/connection.ts in-process: the connect deadline as one budget, and what its socket factory
// must not break (a pool after a failed attempt, a cancel request). The CLI's side of the same
// promises is test/cli/deadline.test.ts.

import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConnectDeadline,
  connectFailure,
  openPostgres,
  withConnectDeadline,
} from "../src/connection.ts";
import { useTestDatabase } from "../src/testing/index.ts";
import { testPort } from "./helpers/ports.ts";

const database = useTestDatabase();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let silent: Server;
let silentPort: number;
const sockets = new Set<Socket>();
beforeAll(async () => {
  silentPort = await testPort();
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => silent.listen(silentPort, "127.0.0.1", resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
});

const silentUrl = (seconds: number) =>
  `postgres://kata:pw@127.0.0.1:${silentPort}/kata?connect_timeout=${seconds}`;

/** The one line a failed `select 1` gives, and how long it took. */
async function failure(sql: ReturnType<typeof openPostgres>, url: string) {
  const started = performance.now();
  try {
    await sql`select 1`;
  } catch (error) {
    return { line: connectFailure(error, url), seconds: (performance.now() - started) / 1000 };
  } finally {
    await sql.end({ timeout: 1 });
  }
  throw new Error("select 1 succeeded");
}

describe("ConnectDeadline", () => {
  it("spends its clock only while an attempt runs, and overlapping attempts once", async () => {
    const deadline = new ConnectDeadline(10);
    const first = deadline.begin();
    const second = deadline.begin();
    await sleep(300);
    first();
    first(); // twice: nothing more
    await sleep(100);
    second();
    const spent = 10_000 - deadline.leftMs();
    expect(spent).toBeGreaterThanOrEqual(390);
    expect(spent).toBeLessThan(700);
    await sleep(300); // no attempt: nothing spent
    expect(10_000 - deadline.leftMs()).toBeCloseTo(spent, 0);
  });
});

describe("one deadline inside withConnectDeadline", () => {
  it("a second pool gets what the first left, and fails at once when nothing is", async () => {
    const url = silentUrl(2);
    const started = performance.now();
    const [a, b] = await withConnectDeadline(async () => [
      await failure(openPostgres(url, { max: 1 }), url),
      await failure(openPostgres(url, { max: 1 }), url),
    ]);
    const line = `PostgreSQL at 127.0.0.1:${silentPort} did not answer within 2 s (connect_timeout)`;
    expect(a.line).toBe(line);
    expect(b.line).toBe(line);
    expect(a.seconds).toBeGreaterThanOrEqual(1.9);
    expect(b.seconds).toBeLessThan(0.5);
    expect((performance.now() - started) / 1000).toBeLessThan(2 + 1);
  });

  it("two pools at once share it: both fail when it is spent", async () => {
    const url = silentUrl(1);
    const started = performance.now();
    const both = await withConnectDeadline(() =>
      Promise.all([
        failure(openPostgres(url, { max: 1 }), url),
        failure(openPostgres(url, { max: 1 }), url),
      ]),
    );
    for (const { line } of both) expect(line).toMatch(/did not answer within 1 s/);
    expect((performance.now() - started) / 1000).toBeLessThan(1 + 1);
  });

  it("time between connections is not spent: a working server answers the next one", async () => {
    const url = new URL(database.url);
    url.searchParams.set("connect_timeout", "1");
    await withConnectDeadline(async () => {
      for (let i = 0; i < 3; i++) {
        const sql = openPostgres(url.toString(), { max: 1 });
        expect((await sql`select 1 as one`)[0]?.one).toBe(1);
        await sql.end();
        await sleep(600); // three times more than the whole deadline, in all
      }
    });
  });

  it("outside one, every attempt gets the whole deadline (as libpq: a pool lives for days)", async () => {
    const url = silentUrl(1);
    const sql = openPostgres(url, { max: 1 });
    const started = performance.now();
    for (let i = 0; i < 2; i++) {
      await expect(sql`select 1`).rejects.toMatchObject({ code: "CONNECT_TIMEOUT" });
    }
    await sql.end({ timeout: 1 });
    expect((performance.now() - started) / 1000).toBeGreaterThanOrEqual(1.9);
  });
});

describe("the socket factory", () => {
  it("a failed attempt leaves the pool usable: its next query tries again, not waits forever", async () => {
    const port = await testPort(); // nobody listens there
    const sql = openPostgres(`postgres://kata:pw@127.0.0.1:${port}/kata`, { max: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await expect(sql`select 1`).rejects.toMatchObject({ code: "ECONNREFUSED" });
        expect(performance.now() - started).toBeLessThan(1000);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it("a cancel request (closed by the server unanswered) is not taken for a broken server", async () => {
    const sql = openPostgres(database.url, { max: 2 });
    try {
      const sleeping = sql`select pg_sleep(10)`.execute();
      await sleep(300);
      await sleeping.cancel();
      await expect(sleeping).rejects.toMatchObject({ code: "57014" });
      // Two at once: the pool's second connection is a new attempt after the cancel's.
      const [, [row]] = await Promise.all([sql`select pg_sleep(0.2)`, sql`select 1 as one`]);
      expect(row?.one).toBe(1);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
