// The one way this package connects to PostgreSQL (migrator, CLI, seed, status, the typed client).
// Connecting has a deadline, as in libpq: `connect_timeout` in the URL, else PGCONNECT_TIMEOUT,
// else 10 s; a server that never answers fails with CONNECT_TIMEOUT after it.
//
// postgres.js reconnects at once, with no delay and no limit, when a socket closes during the
// start-up handshake (connection.js: `if (initial) return reconnect()`), and restarts its connect
// timer on every attempt: a server that accepts and then closes (a crashed pooler, a port
// forward with nothing behind it) made every command spin tens of thousands of times a minute.
// The socket factory below refuses a second attempt once a socket closed before the server sent
// anything, and bounds every attempt by what is left of the deadline.

import { Socket } from "node:net";
import postgres from "postgres";
import { tlsFailure, tlsSetup } from "./tls.ts";

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

type Options = postgres.Options<Record<string, postgres.PostgresType>>;

/**
 * postgres.js with the deadline and the bounded reconnect. Its own connect_timeout still applies
 * per attempt (the time from the socket to a usable session); the socket factory covers the TCP
 * connect and refuses the reconnect loop.
 */
export function openPostgres(
  url: string,
  options: Options = {},
  /** A shorter deadline than the URL's, for a question that a live server answers at once. */
  maxSeconds = Number.POSITIVE_INFINITY,
): postgres.Sql {
  const seconds = Math.min(connectTimeout(url), maxSeconds);
  const where = hostPort(url);
  // sslmode and its files as libpq means them (src/tls.ts); throws one line for a missing file.
  const tls = tlsSetup(url);
  const sslRequired = typeof tls.ssl === "object";
  // The host and port postgres.js would use (it parses multi-host URLs itself; ours have one).
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[(.*)\]$/, "$1") || "localhost";
  let closedSilently = false;

  const socket = () =>
    new Promise<Socket>((resolve, reject) => {
      if (closedSilently) {
        closedSilently = false;
        reject(
          new ConnectError(
            `PostgreSQL at ${where} closed the connection before answering (is something else listening on that port?)`,
            "CONNECTION_CLOSED_EARLY",
          ),
        );
        return;
      }
      const s = new Socket();
      let answered = false;
      // Registered before postgres.js's own listeners, so it runs before they are removed.
      s.on("data", (chunk: Buffer) => {
        // The server's answer to the SSLRequest: 'N' is no SSL, which a required mode refuses
        // (postgres.js would go on to a TLS handshake the server never answers).
        if (!answered && sslRequired && chunk[0] === 0x4e) {
          s.destroy(
            new ConnectError(
              `PostgreSQL at ${where} does not accept SSL, but sslmode=${tls.mode} requires it`,
              "SSL_REQUIRED",
            ),
          );
        }
        answered = true;
      });
      s.once("close", () => {
        if (!answered) closedSilently = true;
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new ConnectError(
            `PostgreSQL at ${where} did not answer within ${seconds} s (connect_timeout)`,
            "CONNECT_TIMEOUT",
          ),
        );
      }, seconds * 1000);
      s.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      s.connect(Number(port) || 5432, host, () => {
        clearTimeout(timer);
        resolve(s);
      });
    });

  // `socket` is a documented postgres.js option its type declarations omit.
  return postgres(tls.url, {
    onnotice: () => {},
    ...options,
    ssl: tls.ssl,
    connect_timeout: seconds,
    socket,
  } as Options);
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
      return `PostgreSQL at ${where} did not answer within ${connectTimeout(url)} s (connect_timeout)`;
    case "CONNECTION_CLOSED_EARLY":
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
