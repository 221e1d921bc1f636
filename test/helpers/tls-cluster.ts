// A PostgreSQL cluster of its own with `ssl = on`, for the TLS tests: a test CA, a server
// certificate signed by it for localhost/127.0.0.1, a second CA that signed nothing of the
// server's (the "wrong CA"), and a client certificate for the user `certuser`, whom pg_hba
// admits only with it. Everything is made with openssl in a temp directory and removed by stop().
// Listens on 127.0.0.1 and a free port only.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  embeddedBinaries,
  initCluster,
  makeServerDir,
  startCluster,
  stopCluster,
} from "../../src/postgres-cluster.ts";
import { testPort } from "../helpers/ports.ts";

export interface TlsCluster {
  port: number;
  /** Files of the test PKI. */
  certs: {
    ca: string;
    wrongCa: string;
    clientCert: string;
    clientKey: string;
  };
  /** postgres://kata:…@HOST:PORT/postgres with the given query (e.g. "sslmode=require"). */
  url(query?: string, host?: string, user?: string): string;
  /** Replace the server's certificate with one (same CA) for another host name, and reload. */
  useCertificateFor(name: string): Promise<void>;
  stop(): Promise<void>;
}

export const TLS_PASSWORD = "tls-Test-Passw0rd";

const openssl = (cwd: string, ...args: string[]) =>
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });

/** A key and a certificate signed by CA `ca`, with the subject CN and subjectAltName given. */
function makeLeaf(dir: string, name: string, ca: string, cn: string, san?: string) {
  openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  openssl(dir, "req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : "basicConstraints=CA:FALSE\n");
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    `${name}.crt`,
  );
}

export async function startTlsCluster(): Promise<TlsCluster> {
  const bin = await embeddedBinaries();
  const root = mkdtempSync(join(tmpdir(), "kata-db-tls-"));
  const pki = join(root, "pki");
  makeServerDir(pki);
  for (const [name, subject] of [
    ["ca", "/CN=kata-test-ca"],
    ["wrong-ca", "/CN=kata-wrong-ca"],
  ] as const) {
    openssl(pki, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
    openssl(
      pki,
      "req",
      "-x509",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      subject,
      "-days",
      "2",
      "-out",
      `${name}.crt`,
    );
  }
  makeLeaf(pki, "server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1");
  makeLeaf(pki, "client", "ca", "certuser");
  makeServerDir(pki); // hand the files to the server user when running as root
  execFileSync("chmod", ["-R", "go-rwx", pki]);

  const dataDir = join(root, "data");
  makeServerDir(root);
  await initCluster({ bin, dataDir, superuser: "kata", password: TLS_PASSWORD });
  // certuser is admitted over SSL with a client certificate of the CA, never with a password.
  const hba = join(dataDir, "pg_hba.conf");
  writeFileSync(hba, `hostssl all certuser 127.0.0.1/32 cert\n${readFileSync(hba, "utf8")}`);
  const port = await testPort();
  await startCluster({
    bin,
    dataDir,
    port,
    settings: {
      fsync: "off",
      ssl: "on",
      ssl_cert_file: join(pki, "server.crt"),
      ssl_key_file: join(pki, "server.key"),
      ssl_ca_file: join(pki, "ca.crt"),
    },
  });
  const url = (query = "", host = "127.0.0.1", user = "kata") =>
    `postgres://${user}:${TLS_PASSWORD}@${host}:${port}/postgres${query ? `?${query}` : ""}`;
  const admin = (sql: string) =>
    import("postgres").then(async ({ default: postgres }) => {
      const c = postgres(url(), { max: 1, onnotice: () => {}, ssl: "prefer" });
      try {
        await c.unsafe(sql);
      } finally {
        await c.end();
      }
    });
  await admin("CREATE ROLE certuser LOGIN");
  return {
    port,
    certs: {
      ca: join(pki, "ca.crt"),
      wrongCa: join(pki, "wrong-ca.crt"),
      clientCert: join(pki, "client.crt"),
      clientKey: join(pki, "client.key"),
    },
    url,
    async useCertificateFor(name) {
      makeLeaf(pki, "server", "ca", name, `DNS:${name}`);
      makeServerDir(pki);
      execFileSync("chmod", ["-R", "go-rwx", pki]);
      await admin("SELECT pg_reload_conf()");
      // The reload is asynchronous: give the postmaster a moment to read the new files.
      await new Promise((resolve) => setTimeout(resolve, 500));
    },
    async stop() {
      await stopCluster({ bin, dataDir, mode: "immediate" }).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
