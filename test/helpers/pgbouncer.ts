// Debian's real PgBouncer in front of the suite's server, for the pooler tests: its own temp
// config and auth file, 127.0.0.1 and a free port, no Unix socket, run as the server user when
// this process is root (PgBouncer refuses root). Every database name is routed to the server.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { which } from "../../scripts/basics/system.ts";
import { makeServerDir, serverUser } from "../../src/postgres-cluster.ts";
import { testPort } from "./ports.ts";

/** pgbouncer on PATH or where Debian puts it (/usr/sbin is not on every PATH). */
export const pgbouncerBinary = () =>
  which("pgbouncer") ?? which("pgbouncer", "/usr/sbin:/usr/local/sbin");

export interface Pgbouncer {
  port: number;
  /** The URL of `database` on the server, through this pooler. */
  url(directUrl: string): string;
  stop(): Promise<void>;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });

/** Start PgBouncer with pool_mode `mode` in front of the server of `adminUrl`. */
export async function startPgbouncer(
  adminUrl: string,
  mode: "session" | "transaction" | "statement",
): Promise<Pgbouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error("pgbouncer is not installed (apt-get install pgbouncer)");
  const server = new URL(adminUrl);
  const dir = mkdtempSync(join(tmpdir(), `kata-db-pgbouncer-${mode}-`));
  const port = await testPort();
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  writeFileSync(join(dir, "userlist.txt"), `"${user}" "${password}"\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    `[databases]
* = host=${server.hostname} port=${server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${join(dir, "userlist.txt")}
pool_mode = ${mode}
max_client_conn = 100
default_pool_size = 10
ignore_startup_parameters = extra_float_digits
logfile = ${join(dir, "pgbouncer.log")}
pidfile = ${join(dir, "pgbouncer.pid")}
`,
  );
  makeServerDir(dir); // hand it to the server user when running as root
  const runAs = serverUser();
  const child: ChildProcess = spawn(binary, [join(dir, "pgbouncer.ini")], {
    stdio: "ignore",
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  for (let i = 0; i < 100 && !(await listening(port)); i++) {
    if (exited) {
      const log = (() => {
        try {
          return readFileSync(join(dir, "pgbouncer.log"), "utf8").trim().split("\n").at(-1);
        } catch {
          return "";
        }
      })();
      throw new Error(`pgbouncer did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    url(directUrl) {
      const url = new URL(directUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
