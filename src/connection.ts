// The one way this package connects to PostgreSQL (migrator, CLI, seed, status, the typed client).
// Connecting has a deadline, as in libpq: `connect_timeout` in the URL, else PGCONNECT_TIMEOUT,
// else 10 s; a server that never answers fails with CONNECT_TIMEOUT after it.
//
// One deadline, not one per connection. A command may connect several times: the CLI's ownership
// probe and then the migrator, the migrator's pooler probe, psql after `db psql`'s probe. Against a
// server that answers none of them, each used to wait the whole deadline again (`db migrate`: 2×).
// A ConnectDeadline is a budget of connecting time: its clock runs while an attempt is under way
// (from opening the socket to the server's first ReadyForQuery) and stops in between, so every
// attempt gets only what the earlier ones left, and a long command (migrate, then seed) does not
// run out of it by working. The CLI runs each command in one (withConnectDeadline); migrate()
// shares one between its connection and its pooler probe; any other pool (an app's createDb) gives
// each attempt the whole deadline, as libpq does: a pool that lives for days must not run out.
//
// So that one timer covers everything that can hang, the socket factory below does the whole
// start-up itself: the TCP connect, the SSL request and the TLS handshake (postgres.js gets a socket
// already encrypted, and ssl: false), and it watches the start-up messages for ReadyForQuery.
//
// postgres.js reconnects at once, with no delay and no limit, when a socket closes during the
// start-up (connection.js: `if (initial) return reconnect()`), and restarts its own connect timer
// every time: a server that accepts and then closes (a crashed pooler, a port forward with nothing
// behind it) made every command spin tens of thousands of times a minute. A socket that closes
// before the session is ready therefore fails with an error instead, which postgres.js does not
// retry. And the factory never rejects: postgres.js leaves a connection whose factory rejected in
// its connecting state for good, so that pool's next query waited forever; a failed attempt is
// handed over as a socket that fails at once.

import { AsyncLocalStorage } from "node:async_hooks";
import { isIP, Socket } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import postgres from "postgres";
import { type TlsSetup, tlsFailure, tlsSetup } from "./tls.ts";

/** libpq's default when neither the URL nor PGCONNECT_TIMEOUT says. */
export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/** Seconds to wait for a connection: the URL's connect_timeout, else PGCONNECT_TIMEOUT, else 10. */
export function connectTimeout(url: string, env: NodeJS.ProcessEnv = process.env): number {
  let fromUrl: string | null = null;
  try {
    fromUrl = new URL(url).searchParams.get("connect_timeout");
  } catch {}
  for (const value of [fromUrl, env.PGCONNECT_TIMEOUT]) {
    const seconds = Number(value);
    // libpq: zero or negative means wait forever; we never wait forever, so it means the default.
    if (value && Number.isFinite(seconds) && seconds > 0) return Math.max(1, Math.round(seconds));
  }
  return DEFAULT_CONNECT_TIMEOUT_S;
}

/** host:port of a URL, for messages. */
export function hostPort(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}`;
  } catch {
    return "the server";
  }
}

/** A connection failure with a one-line message naming where and what; `code` as postgres.js's. */
export class ConnectError extends Error {
  override name = "ConnectError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * A budget of connecting time (see the top of this file): `seconds` in all, spent while at least
 * one attempt is under way. Attempts at the same time spend it once, not once each.
 */
export class ConnectDeadline {
  #spentMs = 0;
  #running = 0;
  #since = 0;

  constructor(readonly seconds: number) {}

  /** The URL's deadline: connect_timeout, else PGCONNECT_TIMEOUT, else 10 s. */
  static for(url: string, env: NodeJS.ProcessEnv = process.env): ConnectDeadline {
    return new ConnectDeadline(connectTimeout(url, env));
  }

  /** Milliseconds left now (zero or less: spent). */
  leftMs(): number {
    const running = this.#running > 0 ? performance.now() - this.#since : 0;
    return this.seconds * 1000 - this.#spentMs - running;
  }

  /** Start the clock for one attempt; the function returned stops it (calling it again does nothing). */
  begin(): () => void {
    if (this.#running++ === 0) this.#since = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.#running === 0) this.#spentMs += performance.now() - this.#since;
    };
  }
}

const scope = new AsyncLocalStorage<{ deadline?: ConnectDeadline }>();

/**
 * Run `fn` with one ConnectDeadline for every connection opened inside it (the CLI: one per
 * command). It is sized by the first URL connected to.
 */
export function withConnectDeadline<T>(fn: () => T): T {
  return scope.run({}, fn);
}

/** The surrounding withConnectDeadline's deadline (made now from `url` if none yet); else undefined. */
export function currentConnectDeadline(url: string): ConnectDeadline | undefined {
  const store = scope.getStore();
  if (!store) return undefined;
  store.deadline ??= ConnectDeadline.for(url);
  return store.deadline;
}

export interface ConnectLimits {
  /**
   * The budget this pool's attempts spend. Default: the surrounding withConnectDeadline's, else
   * "per-attempt": each attempt the URL's whole deadline, as libpq (for a loop that waits for a
   * server to start with limits of its own, outside the command's budget).
   */
  deadline?: ConnectDeadline | "per-attempt";
  /** No attempt waits longer than this: for a question that a live server answers at once. */
  maxSeconds?: number;
}

type Options = postgres.Options<Record<string, postgres.PostgresType>>;

/** postgres.js with the deadline, TLS as libpq means it, and no reconnect loop (see the top). */
export function openPostgres(
  url: string,
  options: Options = {},
  limits: ConnectLimits = {},
): postgres.Sql {
  const budget = limits.deadline ?? currentConnectDeadline(url) ?? "per-attempt";
  const maxSeconds = limits.maxSeconds ?? Number.POSITIVE_INFINITY;
  // sslmode and its files as libpq means them (src/tls.ts); throws one line for a missing file.
  const tls = tlsSetup(url);
  // The host and port postgres.js would use (it parses multi-host URLs itself; ours have one).
  const { hostname, port } = new URL(url);
  const target: Target = {
    host: hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port: Number(port) || 5432,
    where: hostPort(url),
    tls,
  };
  const socket = () => {
    const deadline = budget === "per-attempt" ? ConnectDeadline.for(url) : budget;
    return startSession(target, deadline, maxSeconds).catch(failedSocket);
  };
  // `socket` is a documented postgres.js option its type declarations omit. Its own
  // connect_timeout (from the socket to ReadyForQuery) only backs ours up: it starts later.
  return postgres(tls.url, {
    onnotice: () => {},
    ...options,
    ssl: false,
    connect_timeout: Math.min(
      budget === "per-attempt" ? connectTimeout(url) : budget.seconds,
      maxSeconds,
    ),
    socket,
  } as Options);
}

interface Target {
  host: string;
  port: number;
  /** host:port, for messages. */
  where: string;
  tls: TlsSetup;
}

/** The SSLRequest message: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);
/** A CancelRequest (length 16, code 80877102): the server closes it without an answer. */
const isCancelRequest = (chunk: unknown) =>
  Buffer.isBuffer(chunk) && chunk.length === 16 && chunk.readInt32BE(4) === 80877102;

const closedBeforeAnswering = (where: string) =>
  new ConnectError(
    `PostgreSQL at ${where} closed the connection before answering (is something else listening on that port?)`,
    "CONNECTION_CLOSED_EARLY",
  );

/**
 * One attempt, up to a socket postgres.js can start its session on: TCP, then the SSL request and
 * TLS as the URL's sslmode says. A timer for what is left of the deadline (or maxSeconds, if
 * shorter) destroys the socket of the moment, now or later in the start-up, with CONNECT_TIMEOUT.
 */
async function startSession(
  target: Target,
  deadline: ConnectDeadline,
  maxSeconds: number,
): Promise<Socket> {
  const { where, tls } = target;
  const capped = maxSeconds * 1000 < deadline.leftMs();
  const leftMs = capped ? maxSeconds * 1000 : deadline.leftMs();
  const timedOut = () =>
    new ConnectError(
      `PostgreSQL at ${where} did not answer within ${capped ? maxSeconds : deadline.seconds} s (connect_timeout)`,
      "CONNECT_TIMEOUT",
    );
  if (leftMs <= 0) throw timedOut();
  const stop = deadline.begin();
  const raw = new Socket();
  /** The socket the session runs on: raw, or the TLS socket over it. */
  let current: Socket = raw;
  const timer = setTimeout(() => current.destroy(timedOut()), leftMs);
  const finish = () => {
    clearTimeout(timer);
    stop();
  };
  // Listened to for good, so no error is ever unhandled: before the hand-over the waits below see
  // it; after, postgres.js does (on the TLS socket, whose failure this becomes).
  raw.on("error", (error) => {
    finish();
    if (current !== raw) current.destroy(error);
  });
  try {
    await step(raw, "connect", () => raw.connect(target.port, target.host));
    if (tls.ssl !== false) {
      raw.write(SSL_REQUEST);
      const answer = await step<Buffer>(raw, "data", () => {}, closedBeforeAnswering(where));
      const byte = answer.length === 1 ? answer[0] : undefined;
      if (byte !== 0x53 && byte !== 0x4e) {
        throw new ConnectError(
          `PostgreSQL at ${where} gave an unexpected answer to the SSL request (is it PostgreSQL?)`,
          "SSL_NEGOTIATION",
        );
      }
      if (byte === 0x4e && tls.ssl !== "prefer") {
        throw new ConnectError(
          `PostgreSQL at ${where} does not accept SSL, but sslmode=${tls.mode} requires it`,
          "SSL_REQUIRED",
        );
      }
      if (byte === 0x53) {
        // "prefer" verifies nothing (as libpq); the other modes bring their own options.
        const secured = tlsConnect({
          ...(tls.ssl === "prefer" ? { rejectUnauthorized: false } : tls.ssl),
          socket: raw,
          // SNI, as libpq (sslsni=1) and postgres.js on its own sockets send it.
          servername: isIP(target.host) ? undefined : target.host,
        });
        current = secured;
        secured.on("error", finish);
        const closed = new ConnectError(
          `PostgreSQL at ${where} closed the connection during the TLS handshake`,
          "CONNECTION_CLOSED_EARLY",
        );
        await step(secured, "secureConnect", () => {}, closed);
      }
    }
  } catch (error) {
    finish();
    current.destroy();
    throw error;
  }
  // With SSL asked for, the server has answered something already.
  watchStartup(current, where, finish, tls.ssl !== false);
  return current;
}

/**
 * Do `start`, then wait for `event` on the socket; an error, or a close first (as `closed`), fails
 * the wait.
 */
function step<T = void>(socket: Socket, event: string, start: () => void, closed?: Error) {
  return new Promise<T>((resolve, reject) => {
    const done = (value: T) => {
      cleanup();
      resolve(value);
    };
    const failed = (error: Error) => {
      cleanup();
      reject(error);
    };
    const ended = () => failed(closed ?? new Error("closed"));
    const cleanup = () => {
      socket.off(event, done);
      socket.off("error", failed);
      socket.off("close", ended);
      socket.off("end", ended);
    };
    socket.once(event, done);
    socket.once("error", failed);
    socket.once("close", ended);
    socket.once("end", ended);
    start();
  });
}

/**
 * From the hand-over to postgres.js until the session is ready (the server's first
 * ReadyForQuery), or the attempt failed: then the clock stops. A server that closes the
 * connection before that, without an ErrorResponse, fails it with an error, so postgres.js does
 * not reconnect (see the top). A cancel request is left alone: the server closes it unanswered.
 */
function watchStartup(socket: Socket, where: string, finish: () => void, answered: boolean): void {
  let header = Buffer.alloc(0);
  let skip = 0;
  let refused = false;
  let cancel = false;
  // postgres.js's first write says what this connection is for.
  const write = socket.write;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    socket.write = write;
    cancel = isCancelRequest(chunk);
    return (write as (...args: unknown[]) => boolean).call(socket, chunk, ...rest);
  }) as Socket["write"];
  const ready = () => {
    finish();
    socket.off("data", onData);
    socket.off("end", onEnd);
  };
  // Backend messages: a type byte, a length (itself included), the body; only the types matter.
  const onData = (chunk: Buffer) => {
    answered = true;
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const take = Math.min(5 - header.length, chunk.length - i);
      header = Buffer.concat([header, chunk.subarray(i, i + take)]);
      i += take;
      if (header.length < 5) return;
      const type = header[0];
      skip = header.readUInt32BE(1) - 4;
      header = Buffer.alloc(0);
      if (type === 0x45) refused = true; // ErrorResponse: postgres.js reports it
      if (type === 0x5a) return ready(); // ReadyForQuery
    }
  };
  const onEnd = () => {
    if (refused || cancel) return;
    socket.destroy(
      answered
        ? new ConnectError(
            `PostgreSQL at ${where} closed the connection during its start-up`,
            "CONNECTION_CLOSED_EARLY",
          )
        : closedBeforeAnswering(where),
    );
  };
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.once("close", ready);
}

/**
 * A socket that fails with `error` as soon as postgres.js listens to it: how a failed attempt is
 * handed over without leaving postgres.js's connection stuck (see the top).
 */
function failedSocket(error: Error): Socket {
  const failed = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  // postgres.js attaches its listeners in the microtasks after the factory resolves.
  setImmediate(() => failed.destroy(error));
  return failed as unknown as Socket;
}

/**
 * One line for a failure to connect (what postgres.js and Node report), or undefined for an
 * error that is not about connecting.
 */
export function connectFailure(error: unknown, url: string): string | undefined {
  const err = error as { code?: string; message?: string };
  const where = hostPort(url);
  switch (err.code) {
    case "ECONNREFUSED":
      return `PostgreSQL is not reachable at ${where} (nothing accepts connections there)`;
    case "CONNECT_TIMEOUT":
      // Ours says which deadline (maxSeconds's, or the command's); postgres.js's backup does not.
      return error instanceof ConnectError
        ? err.message
        : `PostgreSQL at ${where} did not answer within ${connectTimeout(url)} s (connect_timeout)`;
    case "CONNECTION_CLOSED_EARLY":
    case "SSL_NEGOTIATION":
      return err.message;
    case "CONNECTION_CLOSED":
    case "ECONNRESET":
      return `PostgreSQL at ${where} closed the connection`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host of PostgreSQL at ${where} is unknown`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `PostgreSQL at ${where} is unreachable (no route)`;
    default:
      return tlsFailure(error, where);
  }
}
