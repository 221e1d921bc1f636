// No command hangs. Two loopback listeners stand in for a broken server: one accepts and closes
// at once (postgres.js used to reconnect to it without end), one accepts and never answers. Every
// command that connects exits non-zero within the deadline, with one line naming host and port.

import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPort } from "../helpers/ports.ts";
import { db, makeProject, oneLineError, type Project } from "./helpers.ts";

interface Listener {
  port: number;
  accepted: () => number;
  close: () => Promise<void>;
}

async function listen(onConnection: (socket: Socket) => void): Promise<Listener> {
  const port = await testPort();
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let closing: Listener;
let silent: Listener;
let project: Project;
beforeAll(async () => {
  closing = await listen((socket) => socket.destroy());
  silent = await listen(() => {});
  project = await makeProject();
});
afterAll(async () => {
  await closing?.close();
  await silent?.close();
});

const url = (port: number, query = "") =>
  `postgres://kata:secret-pw@127.0.0.1:${port}/kata${query}`;
const COMMANDS = [
  ["migrate"],
  ["status"],
  ["seed"],
  ["reset", "--yes"],
  ["psql", "-c", "select 1"],
];

describe("a server that accepts and closes", () => {
  it.concurrent.each(COMMANDS)(
    "db %s fails at once, with one line, no reconnect loop",
    async (...args) => {
      const before = closing.accepted();
      const started = performance.now();
      const result = await db(project.root, args, { env: { DATABASE_URL: url(closing.port) } });
      const seconds = (performance.now() - started) / 1000;
      expect(result.code).toBe(1);
      expect(oneLineError(result)).toMatch(
        new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${closing.port} closed the connection`),
      );
      expect(seconds).toBeLessThan(8);
      // One attempt per connection the command opens, not thousands.
      expect(closing.accepted() - before).toBeLessThan(10);
    },
  );
});

describe("a server that never answers", () => {
  it.concurrent.each(COMMANDS)("db %s gives up after PGCONNECT_TIMEOUT", async (...args) => {
    const started = performance.now();
    const result = await db(project.root, args, {
      env: { DATABASE_URL: url(silent.port), PGCONNECT_TIMEOUT: "2" },
    });
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${silent.port} did not answer within 2 s`),
    );
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(9);
  });

  it.concurrent("connect_timeout in the URL wins over PGCONNECT_TIMEOUT", async () => {
    const result = await db(project.root, ["migrate"], {
      env: { DATABASE_URL: url(silent.port, "?connect_timeout=1"), PGCONNECT_TIMEOUT: "30" },
    });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(/did not answer within 1 s \(connect_timeout\)/);
  });

  it.concurrent("without either, the deadline is 10 s", async () => {
    const started = performance.now();
    const result = await db(project.root, ["status"], { env: { DATABASE_URL: url(silent.port) } });
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/did not answer within 10 s/);
    expect(seconds).toBeGreaterThanOrEqual(10);
    expect(seconds).toBeLessThan(20);
  }, 30_000);

  it.concurrent("db up finds the port taken and says so, without waiting", async () => {
    const other = await makeProject();
    const started = performance.now();
    const result = await db(other.root, ["up", "--backend", "embedded"], {
      env: { DATABASE_URL: url(silent.port) },
    });
    expect(result.code).toBe(1);
    expect((performance.now() - started) / 1000).toBeLessThan(8);
    expect(oneLineError(result)).toMatch(new RegExp(`port ${silent.port}`));
  });
});
