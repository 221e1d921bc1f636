// sslmode, sslrootcert, sslcert and sslkey as libpq means them (src/tls.ts), against a real
// PostgreSQL of this file's own with `ssl = on` and certificates made with openssl
// (test/helpers/tls-cluster.ts). Encryption is proven by the server: pg_stat_ssl of the session.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pingRedis } from "../scripts/basics/redis.ts";
import { which } from "../scripts/basics/system.ts";
import { connectFailure, openPostgres } from "../src/connection.ts";
import { testContext } from "../src/testing/index.ts";
import {
  db,
  makeProject,
  oneLineError,
  PACKAGE_ROOT,
  type Project,
  runProcess,
} from "./cli/helpers.ts";
import { startTlsCluster, TLS_PASSWORD, type TlsCluster } from "./helpers/tls-cluster.ts";

// The certificates are made with openssl: CI has it (Debian's base system) and so do the flake's
// checks (nixpkgs' openssl); where it is absent these tests say so and skip.
const haveOpenssl = Boolean(which("openssl"));
if (!haveOpenssl && process.env.CI) throw new Error("openssl is not on PATH, and CI=true");

let server: TlsCluster;
let project: Project;
beforeAll(async () => {
  if (!haveOpenssl) return;
  server = await startTlsCluster();
  project = await makeProject();
});
afterAll(async () => {
  await server?.stop();
});

/** Whether the session of a connection through openPostgres() is encrypted, as the server says. */
async function sessionSsl(url: string): Promise<boolean> {
  const sql = openPostgres(url, { max: 1 });
  try {
    const [row] = await sql<{ ssl: boolean }[]>`
      SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
    return row?.ssl ?? false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The one-line message the CLI and the library give for a failed connection. */
async function failure(url: string): Promise<string> {
  try {
    await sessionSsl(url);
  } catch (error) {
    const line = connectFailure(error, url) ?? (error as Error).message;
    expect(line).not.toContain("\n");
    expect(line).not.toContain(TLS_PASSWORD);
    return line;
  }
  throw new Error(`connecting to ${url} succeeded`);
}

describe.skipIf(!haveOpenssl)("sslmode as in libpq", () => {
  it("verify-full with the right CA: connects, encrypted, to 127.0.0.1 and to localhost", async () => {
    const q = `sslmode=verify-full&sslrootcert=${server.certs.ca}`;
    expect(await sessionSsl(server.url(q))).toBe(true);
    expect(await sessionSsl(server.url(q, "localhost"))).toBe(true);
  });

  it("verify-ca with the right CA: connects, encrypted", async () => {
    expect(await sessionSsl(server.url(`sslmode=verify-ca&sslrootcert=${server.certs.ca}`))).toBe(
      true,
    );
  });

  it("a wrong CA fails verification, in one line", async () => {
    for (const mode of ["verify-full", "verify-ca"]) {
      expect(
        await failure(server.url(`sslmode=${mode}&sslrootcert=${server.certs.wrongCa}`)),
      ).toMatch(
        `PostgreSQL at 127.0.0.1:${server.port} failed TLS verification: its certificate is not signed by the root certificate given (sslrootcert) (`,
      );
    }
  });

  it("require encrypts without verifying: a certificate of an unknown CA is accepted", async () => {
    expect(await sessionSsl(server.url("sslmode=require"))).toBe(true);
  });

  it("require with sslrootcert verifies the chain, as libpq (postgres.js alone would not)", async () => {
    expect(
      await failure(server.url(`sslmode=require&sslrootcert=${server.certs.wrongCa}`)),
    ).toMatch(/failed TLS verification: its certificate is not signed/);
    expect(await sessionSsl(server.url(`sslmode=require&sslrootcert=${server.certs.ca}`))).toBe(
      true,
    );
  });

  it("prefer (also no sslmode: libpq's default) encrypts when the server offers SSL; disable does not", async () => {
    expect(await sessionSsl(server.url("sslmode=prefer"))).toBe(true);
    expect(await sessionSsl(server.url())).toBe(true);
    expect(await sessionSsl(server.url("sslmode=disable"))).toBe(false);
  });

  it("prefer to a server without SSL connects in plain; require refuses it in one line", async () => {
    const plain = new URL(testContext().adminUrl);
    expect(await sessionSsl(plain.toString())).toBe(false);
    plain.searchParams.set("sslmode", "require");
    expect(await failure(plain.toString())).toBe(
      `PostgreSQL at ${plain.hostname}:${plain.port} does not accept SSL, but sslmode=require requires it`,
    );
  });

  it("a client certificate (sslcert, sslkey) logs in a user pg_hba admits only by certificate", async () => {
    const { ca, clientCert, clientKey } = server.certs;
    const withCert = `sslmode=verify-full&sslrootcert=${ca}&sslcert=${clientCert}&sslkey=${clientKey}`;
    expect(await sessionSsl(server.url(withCert, "127.0.0.1", "certuser"))).toBe(true);
    expect(
      await failure(server.url(`sslmode=verify-full&sslrootcert=${ca}`, "127.0.0.1", "certuser")),
    ).toBe("connection requires a valid client certificate");
  });

  it("a certificate file that does not exist: one line naming it, before connecting", async () => {
    const missing = "/nonexistent/kata-ca.crt";
    expect(await failure(server.url(`sslmode=verify-full&sslrootcert=${missing}`))).toBe(
      `root certificate file "${missing}" does not exist`,
    );
    expect(
      await failure(
        server.url(`sslmode=require&sslcert=${server.certs.clientCert}&sslkey=/nonexistent/k.key`),
      ),
    ).toBe(`client key (sslkey) file "/nonexistent/k.key" does not exist`);
  });

  it("an unknown sslmode, and allow (which postgres.js cannot do), fail in one line", async () => {
    expect(await failure(server.url("sslmode=verify"))).toMatch(
      /^invalid sslmode "verify": use one of/,
    );
    expect(await failure(server.url("sslmode=allow"))).toMatch(/^sslmode=allow is not supported/);
    expect(await failure(server.url("sslmode=require&sslrootcert=system"))).toBe(
      'sslrootcert=system requires sslmode=verify-full (it is "require"), as in libpq',
    );
  });

  it("sslrootcert=system: the system's roots, which do not include the test CA", async () => {
    expect(await failure(server.url("sslrootcert=system"))).toMatch(
      /failed TLS verification: its certificate is not signed by the root certificate given/,
    );
  });
});

describe.skipIf(!haveOpenssl)("rediss:, the default roots", () => {
  it("trust a CA of NODE_EXTRA_CA_CERTS handed over by scripts/bin/db (KATA_DB_EXTRA_CA_CERTS)", async () => {
    // A stand-in for Redis over TLS on loopback, with the PostgreSQL server's certificate (the
    // test CA's, for 127.0.0.1): it answers PING, which is all the CLI asks of Redis here.
    const pki = dirname(server.certs.ca);
    const redis = createTlsServer(
      { cert: readFileSync(join(pki, "server.crt")), key: readFileSync(join(pki, "server.key")) },
      (socket) => socket.once("data", () => socket.end("+PONG\r\n")),
    );
    await new Promise<void>((resolve) => redis.listen(0, "127.0.0.1", resolve));
    const { port } = redis.address() as { port: number };
    const target = { url: `rediss://127.0.0.1:${port}`, host: "127.0.0.1", port, password: "" };
    try {
      expect(await pingRedis(target)).toMatchObject({
        healthy: false,
        reason: expect.stringMatching(/certificate/),
      }); // node's roots alone
      process.env.KATA_DB_EXTRA_CA_CERTS = server.certs.ca;
      expect(await pingRedis(target)).toEqual({ healthy: true });
      // A file that cannot be read: node's roots alone, as node itself does with one.
      process.env.KATA_DB_EXTRA_CA_CERTS = join(pki, "missing.crt");
      expect(await pingRedis(target)).toMatchObject({ healthy: false });
    } finally {
      delete process.env.KATA_DB_EXTRA_CA_CERTS;
      redis.close();
    }
  });
});

describe.skipIf(!haveOpenssl)("the CLI with a TLS DATABASE_URL", () => {
  it("sslrootcert=system trusts a CA of NODE_EXTRA_CA_CERTS, which scripts/bin/db keeps node from parsing at its start", async () => {
    // The wrapper itself, as a person runs it: it hands the variable over under another name.
    const wrapper = join(PACKAGE_ROOT, "scripts", "bin", "db");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KATA_DB_ROOT: project.root,
      DATABASE_URL: server.url("sslrootcert=system"),
      FORCE_COLOR: "0",
    };
    const trusted = await runProcess(wrapper, ["migrate", "--plan"], {
      ...env,
      NODE_EXTRA_CA_CERTS: server.certs.ca,
    });
    expect(trusted.stderr).not.toMatch(/TLS|certificate/);
    expect(trusted.code).toBe(0);
    const without = { ...env };
    delete without.NODE_EXTRA_CA_CERTS;
    const untrusted = await runProcess(wrapper, ["migrate", "--plan"], without);
    expect(untrusted.code).toBe(1);
    expect(oneLineError(untrusted)).toMatch(/failed TLS verification/);
  });

  it.skipIf(!which("psql"))(
    "scripts/bin/db hands NODE_EXTRA_CA_CERTS on under another name, but not with --use-openssl-ca",
    async () => {
      // What a process the CLI starts sees: psql's shell escape prints it.
      const seen = async (extra: NodeJS.ProcessEnv) => {
        const run = await runProcess(
          join(PACKAGE_ROOT, "scripts", "bin", "db"),
          // Shell builtins only: the Nix sandbox's PATH has no grep or sort.
          [
            "psql",
            "-c",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's expansion, not JS's
            '\\! echo "KATA_DB_EXTRA_CA_CERTS=${KATA_DB_EXTRA_CA_CERTS-unset} NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS-unset}"',
          ],
          {
            ...process.env,
            KATA_DB_ROOT: project.root,
            DATABASE_URL: server.url(`sslmode=verify-full&sslrootcert=${server.certs.ca}`),
            FORCE_COLOR: "0",
            NODE_EXTRA_CA_CERTS: server.certs.ca,
            ...extra,
          },
        );
        expect(run.code, run.stderr).toBe(0);
        return run.stdout.trim();
      };
      expect(await seen({})).toBe(`KATA_DB_EXTRA_CA_CERTS=${server.certs.ca} NODE_EXTRA_CA_CERTS=`);
      // OpenSSL's roots are trusted then, which the CLI could not name: node loads the file.
      expect(await seen({ NODE_OPTIONS: "--use-openssl-ca" })).toBe(
        `KATA_DB_EXTRA_CA_CERTS=unset NODE_EXTRA_CA_CERTS=${server.certs.ca}`,
      );
    },
  );

  it("db migrate over verify-full applies the history, encrypted", async () => {
    const url = server.url(`sslmode=verify-full&sslrootcert=${server.certs.ca}`);
    const run = await db(project.root, ["migrate"], { env: { DATABASE_URL: url } });
    expect(run.stderr).toMatch(/Applied \d+ migrations to postgres/);
    expect(run.code).toBe(0);
  });

  it("a missing certificate: one ✖ line, exit 1, no password and no key content", async () => {
    const url = server.url(
      `sslmode=verify-full&sslrootcert=/nonexistent/ca.crt&sslcert=${server.certs.clientCert}&sslkey=${server.certs.clientKey}`,
    );
    const run = await db(project.root, ["migrate"], { env: { DATABASE_URL: url } });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(
      /root certificate file "\/nonexistent\/ca.crt" does not exist/,
    );
    const key = readFileSync(server.certs.clientKey, "utf8");
    const keyBody = key.split("\n")[1] as string;
    for (const secret of [TLS_PASSWORD, keyBody]) {
      expect(run.stderr + run.stdout).not.toContain(secret);
    }
  });

  it("a wrong host name: verify-full fails in one line, verify-ca (chain only) still connects", async () => {
    await server.useCertificateFor("db.elsewhere.test");
    const full = server.url(`sslmode=verify-full&sslrootcert=${server.certs.ca}`);
    expect(await failure(full)).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} failed TLS verification: its certificate is not for this host name (ERR_TLS_CERT_ALTNAME_INVALID)`,
    );
    const run = await db(project.root, ["status", "--json"], { env: { DATABASE_URL: full } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("its certificate is not for this host name");
    expect(run.stdout + run.stderr).not.toContain(TLS_PASSWORD);
    expect(await sessionSsl(server.url(`sslmode=verify-ca&sslrootcert=${server.certs.ca}`))).toBe(
      true,
    );
  });
});
