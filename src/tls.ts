// TLS as libpq means it, for every connection openPostgres() makes. postgres.js reads `sslmode`
// itself, but not as libpq does: its `require` accepts any certificate even with a root CA given
// (libpq then verifies the chain, as verify-ca), its verify-ca checks the host name too, and it
// sends sslrootcert/sslcert/sslkey to the server as startup parameters, which the server refuses.
// So these parameters are read here (URL first, then PGSSLMODE/PGSSLROOTCERT/PGSSLCERT/PGSSLKEY,
// then libpq's defaults), removed from the URL postgres.js sees, and turned into its `ssl` option.
//
// libpq's modes: disable (plain), allow (not supported here: plain first, SSL only if the server
// insists, which postgres.js cannot do), prefer (the default: SSL if the server offers it, no
// verification), require (SSL, no verification, unless a root CA file is given or exists in
// ~/.postgresql/root.crt: then as verify-ca), verify-ca (the chain, not the name), verify-full
// (the chain and the host name). sslrootcert=system means the system's trusted roots and, as in
// libpq 16+, forces verify-full.

import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, checkServerIdentity, rootCertificates } from "node:tls";

export const SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The URL parameters this module reads and postgres.js must not see. */
const TLS_PARAMS = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl"] as const;

/** A TLS setting that cannot work (unknown mode, missing file): one line, no file contents. */
export class TlsConfigError extends Error {
  override name = "TlsConfigError";
  readonly code = "TLS_CONFIG";
}

export interface TlsSetup {
  /** The URL without the TLS parameters. */
  url: string;
  mode: SslMode;
  /** For postgres.js: false (plain), "prefer", or tls.connect options (SSL is then required). */
  ssl: false | "prefer" | ConnectionOptions;
}

const postgresDir = (env: NodeJS.ProcessEnv) => join(env.HOME || homedir(), ".postgresql");

function readFile(kind: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TlsConfigError(
      code === "ENOENT"
        ? `${kind} file "${file}" does not exist`
        : `cannot read the ${kind} file "${file}" (${code ?? "unreadable"})`,
    );
  }
}

/**
 * The roots a connection that trusts the default ones gets: undefined for node's own store, as it
 * is, or node's bundled roots plus the certificates of NODE_EXTRA_CA_CERTS, when scripts/bin/db
 * handed them over as KATA_DB_EXTRA_CA_CERTS so that node did not parse them at its start.
 */
export function trustedRoots(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const file = env.KATA_DB_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, "utf8")];
  } catch {
    // As node does with a NODE_EXTRA_CA_CERTS it cannot read: its own roots alone.
    return undefined;
  }
}

/** What libpq would do with the URL's (or the environment's) TLS settings. */
export function tlsSetup(url: string, env: NodeJS.ProcessEnv = process.env): TlsSetup {
  const parsed = new URL(url);
  const param = (name: string, envName: string) =>
    parsed.searchParams.get(name) ?? (env[envName] || undefined);
  // `ssl=true` is postgres.js's (and node-postgres's) spelling; libpq has no `ssl`: read it as require.
  const legacy = parsed.searchParams.get("ssl");
  const given =
    param("sslmode", "PGSSLMODE") ??
    (legacy === null ? undefined : legacy === "false" ? "disable" : "require");
  let rootcert = param("sslrootcert", "PGSSLROOTCERT");
  const cert = param("sslcert", "PGSSLCERT");
  const key = param("sslkey", "PGSSLKEY");
  for (const name of TLS_PARAMS) parsed.searchParams.delete(name);
  const stripped = parsed.toString();

  if (given === "allow") {
    throw new TlsConfigError(
      "sslmode=allow is not supported (postgres.js cannot fall back to SSL after a plain attempt): use prefer, require or disable",
    );
  }
  if (given !== undefined && !(SSL_MODES as readonly string[]).includes(given)) {
    throw new TlsConfigError(
      `invalid sslmode "${given}": use one of disable, prefer, require, verify-ca, verify-full`,
    );
  }
  let mode = (given ?? "prefer") as SslMode;
  if (mode === "disable") return { url: stripped, mode, ssl: false };

  const system = rootcert === "system";
  if (system) {
    if (mode !== "verify-full" && given !== undefined) {
      throw new TlsConfigError(
        `sslrootcert=system requires sslmode=verify-full (it is "${mode}"), as in libpq`,
      );
    }
    mode = "verify-full";
  }
  // libpq's default root CA file: used when it exists, required by the verifying modes.
  const defaultRoot = join(postgresDir(env), "root.crt");
  if (!system && rootcert === undefined && existsSync(defaultRoot)) rootcert = defaultRoot;
  if (mode === "require" && rootcert !== undefined) mode = "verify-ca";
  if (mode === "prefer" && cert === undefined && key === undefined) {
    return { url: stripped, mode, ssl: "prefer" };
  }

  const options: ConnectionOptions = { rejectUnauthorized: false };
  if (mode === "verify-ca" || mode === "verify-full") {
    options.rejectUnauthorized = true;
    if (!system) {
      if (rootcert === undefined) {
        throw new TlsConfigError(
          `sslmode=${mode} needs a root certificate: set sslrootcert (a file, or "system" for the system's trusted roots); "${defaultRoot}" does not exist`,
        );
      }
      options.ca = readFile("root certificate", rootcert);
    } else {
      const roots = trustedRoots(env);
      if (roots) options.ca = roots;
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost";
    // verify-ca: the chain only. verify-full: also the host name of the URL, against the
    // certificate's names (an IP address against its IP SANs).
    options.checkServerIdentity =
      mode === "verify-full" ? (_name, peer) => checkServerIdentity(host, peer) : () => undefined;
  }
  // A client certificate: libpq's default files are used when both exist.
  const certFile = cert ?? join(postgresDir(env), "postgresql.crt");
  const keyFile = key ?? join(postgresDir(env), "postgresql.key");
  if (cert !== undefined || key !== undefined || (existsSync(certFile) && existsSync(keyFile))) {
    options.cert = readFile("client certificate (sslcert)", certFile);
    options.key = readFile("client key (sslkey)", keyFile);
  }
  if (mode === "prefer") {
    // postgres.js's "prefer" takes no certificate; with one, SSL is asked for and required.
    return { url: stripped, mode: "require", ssl: options };
  }
  return { url: stripped, mode, ssl: options };
}

/** Node's TLS failures that mean the server's certificate was not accepted. */
const CERTIFICATE_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** One line for a TLS failure while connecting, or undefined for another error. */
export function tlsFailure(error: unknown, where: string): string | undefined {
  const err = error as { code?: string; message?: string };
  if (err.code === "TLS_CONFIG" || err.code === "SSL_REQUIRED") return err.message;
  if (err.code && CERTIFICATE_CODES.has(err.code)) {
    const what =
      err.code === "ERR_TLS_CERT_ALTNAME_INVALID"
        ? "its certificate is not for this host name"
        : "its certificate is not signed by the root certificate given (sslrootcert)";
    return `PostgreSQL at ${where} failed TLS verification: ${what} (${err.code})`;
  }
  if (err.code?.startsWith("ERR_SSL_") || err.code?.startsWith("ERR_TLS_")) {
    return `TLS with PostgreSQL at ${where} failed: ${err.message?.split("\n")[0]} (${err.code})`;
  }
  return undefined;
}
