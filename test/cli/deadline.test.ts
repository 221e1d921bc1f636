// No command hangs. Loopback listeners stand in for a broken server: one accepts and closes at once
// (postgres.js used to reconnect to it without end), one accepts and never answers. Every command
// that connects exits non-zero within the deadline, with one line naming host and port.
//
// The deadline is one budget for all of a command's connecting (src/connection.ts): a second
// connection (the migrator's pooler probe, `db migrate`'s and `db seed`'s after the ownership
// probe, psql after `db psql`'s probe) gets only what the first ones left. So the listeners below
// also answer a first connection (slowly, relayed to the suite's server) and then hang, or answer
// the SSL request and then hang. Times are measured from the listener's first accepted connection,
// so the CLI's own start-up (slow on a loaded machine) is not counted against the deadline.

import { createServer, type Server, type Socket, connect as tcp } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, dropTestDatabase } from "../../src/testing/index.ts";
import { testPort } from "../helpers/ports.ts";
import { db, makeProject, oneLineError, type Project, type Run } from "./helpers.ts";

interface Listener {
  port: number;
  host: string;
  accepted: () => number;
  /** performance.now() of the first connection accepted, if any. */
  firstAccepted: () => number | undefined;
  close: () => Promise<void>;
}

/** A listener whose connection number `index` (from 0) is handled by `onConnection`. */
async function listen(
  onConnection: (socket: Socket, index: number) => void,
  host = "127.0.0.1",
): Promise<Listener> {
  const port = await testPort();
  const sockets = new Set<Socket>();
  let accepted = 0;
  let first: number | undefined;
  const server: Server = createServer((socket) => {
    first ??= performance.now();
    sockets.add(socket);
    socket.on("error", () => {});
    onConnection(socket, accepted++);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port,
    host,
    accepted: () => accepted,
    firstAccepted: () => first,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// What a connection to a listener meets.
const never = () => {};
/** The suite's server behind it, but only after `delayMs`: a slow first answer. */
const relayTo =
  (target: URL, delayMs: number, track: Set<Socket>) =>
  (client: Socket): void => {
    client.pause();
    setTimeout(() => {
      const upstream = tcp(Number(target.port), target.hostname);
      track.add(upstream);
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    }, delayMs);
  };
/** PostgreSQL's SSLRequest: length 8, code 80877103. */
const isSslRequest = (chunk: Buffer) => chunk.length === 8 && chunk.readInt32BE(4) === 80877103;
/** Answer the SSL request with `answer` ('N': no SSL, 'S': yes), then `then` (nothing: hang). */
const sslAnswer =
  (answer: "N" | "S", then: (socket: Socket) => void = never) =>
  (socket: Socket): void => {
    socket.once("data", (chunk: Buffer) => {
      if (isSslRequest(chunk)) socket.write(answer);
      then(socket);
    });
  };
/** The first connection one way, the others another. */
const firstThen =
  (first: (s: Socket) => void, rest: (s: Socket) => void) => (socket: Socket, index: number) =>
    (index === 0 ? first : rest)(socket);

const url = (port: number, query = "", host = "127.0.0.1", database = "kata") =>
  `postgres://kata:secret-pw@${host}:${port}/${database}${query}`;

interface Timed {
  run: Run;
  /** From the listener's first accepted connection to the command's exit. */
  sinceConnecting: number;
  /** From spawning the command to its exit. */
  total: number;
}

async function timed(
  listener: Listener,
  root: string,
  args: string[],
  env: Record<string, string>,
): Promise<Timed> {
  const started = performance.now();
  const run = await db(root, args, { env });
  const ended = performance.now();
  const first = listener.firstAccepted();
  return {
    run,
    sinceConnecting: first === undefined ? 0 : (ended - first) / 1000,
    total: (ended - started) / 1000,
  };
}

let closing: Listener;
let project: Project;
const listeners: Listener[] = [];
/** A listener closed after the file. */
const own = async (onConnection: (socket: Socket, index: number) => void, host?: string) => {
  const listener = await listen(onConnection, host);
  listeners.push(listener);
  return listener;
};
beforeAll(async () => {
  closing = await own((socket) => socket.destroy());
  project = await makeProject();
});
afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close()));
});

const COMMANDS = [
  ["migrate"],
  ["migrate", "--plan"],
  ["status"],
  ["seed"],
  ["reset", "--yes"],
  ["psql", "-c", "select 1"],
].map((args) => [args.join(" "), args] as const);

describe("a server that accepts and closes", () => {
  it.concurrent.each(COMMANDS)(
    "db %s fails at once, with one line, no reconnect loop",
    async (_command, args) => {
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
  it.concurrent.each(COMMANDS)("db %s gives up after PGCONNECT_TIMEOUT", async (_command, args) => {
    const silent = await own(never);
    const { run, sinceConnecting, total } = await timed(silent, project.root, args, {
      DATABASE_URL: url(silent.port),
      PGCONNECT_TIMEOUT: "2",
    });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(
      new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${silent.port} did not answer within 2 s`),
    );
    expect(total).toBeGreaterThanOrEqual(2);
    expect(total).toBeLessThan(9);
    // One deadline for the whole command, however many connections it would open.
    expect(sinceConnecting).toBeLessThan(2 + 1);
  });

  it.concurrent("connect_timeout in the URL wins over PGCONNECT_TIMEOUT", async () => {
    const silent = await own(never);
    const { run, sinceConnecting } = await timed(silent, project.root, ["migrate"], {
      DATABASE_URL: url(silent.port, "?connect_timeout=1"),
      PGCONNECT_TIMEOUT: "30",
    });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(/did not answer within 1 s \(connect_timeout\)/);
    expect(sinceConnecting).toBeLessThan(1 + 1);
  });

  it.concurrent("without either, the deadline is 10 s", async () => {
    const silent = await own(never);
    const started = performance.now();
    const result = await db(project.root, ["status"], { env: { DATABASE_URL: url(silent.port) } });
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/did not answer within 10 s/);
    expect(seconds).toBeGreaterThanOrEqual(10);
    expect(seconds).toBeLessThan(20);
  }, 30_000);

  it.concurrent("db up finds the port taken and says so, without waiting", async () => {
    const silent = await own(never);
    const other = await makeProject();
    const started = performance.now();
    const result = await db(other.root, ["up", "--backend", "embedded"], {
      env: { DATABASE_URL: url(silent.port) },
    });
    expect(result.code).toBe(1);
    expect((performance.now() - started) / 1000).toBeLessThan(8);
    expect(oneLineError(result)).toMatch(new RegExp(`port ${silent.port}`));
  });

  it.concurrent("db up with a short connect_timeout asks whose the port is within it", async () => {
    const silent = await own(never);
    const other = await makeProject();
    const { run, sinceConnecting } = await timed(
      silent,
      other.root,
      ["up", "--backend", "embedded"],
      {
        DATABASE_URL: url(silent.port, "?connect_timeout=1"),
      },
    );
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(
      new RegExp(`port ${silent.port} .* in use by another program`),
    );
    expect(sinceConnecting).toBeLessThan(1 + 1);
  });

  it.concurrent("db up refuses a remote DATABASE_URL without connecting", async () => {
    const silent = await own(never, "127.0.0.2");
    const other = await makeProject();
    const { run, total } = await timed(silent, other.root, ["up"], {
      DATABASE_URL: url(silent.port, "?connect_timeout=2", "127.0.0.2"),
    });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(/use `db migrate` for a remote database/);
    expect(silent.accepted()).toBe(0);
    expect(total).toBeLessThan(8);
  });
});

describe("one deadline for all of a command's connections", () => {
  // The suite's server, for the first connections that are answered.
  let database: string;
  const relayed = new Set<Socket>();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of relayed) s.destroy();
    if (database) await dropTestDatabase(database);
  });

  /** The test database's URL through `listener`, with connect_timeout=`seconds`. */
  const through = (listener: Listener, seconds: number) => {
    const target = new URL(database);
    target.hostname = listener.host;
    target.port = String(listener.port);
    target.searchParams.set("connect_timeout", String(seconds));
    return target.toString();
  };
  const expectDeadline = (t: Timed, listener: Listener, seconds: number) => {
    expect(t.run.code).not.toBe(0);
    expect(oneLineError(t.run)).toMatch(
      new RegExp(
        `PostgreSQL at ${listener.host.replaceAll(".", "\\.")}:${listener.port} did not answer within ${seconds} s \\(connect_timeout\\)`,
      ),
    );
    expect(t.sinceConnecting).toBeLessThan(seconds + 1);
  };

  // The first connection answered after 1.2 s of the 2 s: the next one has 0.8 s left.
  it.concurrent.each([["migrate"], ["seed"], ["status"]])(
    "db %s: the ownership probe is answered slowly, the next connection hangs",
    async (...args) => {
      const listener = await own(firstThen(relayTo(new URL(database), 1200, relayed), never));
      const t = await timed(listener, project.root, args, { DATABASE_URL: through(listener, 2) });
      expectDeadline(t, listener, 2);
      expect(listener.accepted()).toBe(2);
    },
  );

  it.concurrent("db migrate to a remote server: its pooler probe hangs", async () => {
    // 127.0.0.2: loopback, but not local to the CLI, so no ownership probe: the migrator's own
    // connection is the slow first one, its pooler probe (a second connection) the one that hangs.
    // An empty database: the probe runs only when there is something to apply.
    const empty = await createTestDatabase(null);
    const listener = await own(
      firstThen(relayTo(new URL(empty), 1200, relayed), never),
      "127.0.0.2",
    );
    const url = new URL(through(listener, 2));
    url.pathname = new URL(empty).pathname;
    const t = await timed(listener, project.root, ["migrate"], { DATABASE_URL: url.toString() });
    await dropTestDatabase(empty);
    expectDeadline(t, listener, 2);
    expect(listener.accepted()).toBe(2);
  });

  it.concurrent("db psql: psql itself gets what the probe left (libpq: whole seconds, ≥ 2)", async () => {
    const listener = await own(firstThen(relayTo(new URL(database), 1500, relayed), never));
    const t = await timed(listener, project.root, ["psql", "-c", "select 1"], {
      DATABASE_URL: through(listener, 4),
    });
    // psql's own failure (libpq's words, its exit code 2), after 4 s in all rather than 1.5 + 4.
    expect(t.run.code).not.toBe(0);
    expect(t.run.stderr).toMatch(/timeout expired/);
    expect(t.sinceConnecting).toBeLessThan(4 + 1);
    expect(listener.accepted()).toBe(2);
  });

  it.concurrent.each([["migrate"], ["seed"]])(
    "sslmode=prefer: SSL refused ('N'), then nothing, on every connection: db %s",
    async (...args) => {
      const listener = await own(sslAnswer("N"));
      const t = await timed(listener, project.root, args, {
        DATABASE_URL: url(listener.port, "?connect_timeout=2&sslmode=prefer"),
      });
      expectDeadline(t, listener, 2);
    },
  );

  it.concurrent("sslmode=require: SSL accepted ('S'), then no TLS handshake: db migrate", async () => {
    const listener = await own(sslAnswer("S"));
    const t = await timed(listener, project.root, ["migrate"], {
      DATABASE_URL: url(listener.port, "?connect_timeout=2&sslmode=require"),
    });
    expectDeadline(t, listener, 2);
  });

  it.concurrent("SSL refused, then the connection closed: one line at once, no reconnect loop", async () => {
    const listener = await own(sslAnswer("N", (socket) => socket.destroy()));
    const t = await timed(listener, project.root, ["migrate"], {
      DATABASE_URL: url(listener.port, "?connect_timeout=2"),
    });
    expect(t.run.code).toBe(1);
    expect(oneLineError(t.run)).toMatch(
      new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${listener.port} closed the connection`),
    );
    expect(t.sinceConnecting).toBeLessThan(1.5);
    expect(listener.accepted()).toBeLessThan(10);
  }, 15_000);
});
