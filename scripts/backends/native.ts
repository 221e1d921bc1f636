// `native`: PostgreSQL and Redis from PATH — the Nix dev shell pins them, and `nix flake check`
// uses this backend inside its sandbox.

import { dirname } from "node:path";
import {
  binariesMajor,
  POSTGRES_MAJOR,
  type PostgresBinaries,
  pathBinaries,
} from "../../src/postgres-cluster.ts";
import { CliError } from "../cli/task.ts";
import { localBackend } from "./local.ts";

/** initdb/pg_ctl/postgres of this project's major from PATH, or why not. */
export async function findNative(): Promise<PostgresBinaries | string> {
  const bin = pathBinaries();
  if (!bin)
    return `no PostgreSQL ${POSTGRES_MAJOR} on PATH (initdb, pg_ctl and postgres in one directory)`;
  const major = await binariesMajor(bin);
  if (major !== POSTGRES_MAJOR) {
    return `the PostgreSQL on PATH (${dirname(bin.postgres)}) is ${major}, this project runs ${POSTGRES_MAJOR}`;
  }
  return bin;
}

export async function nativeBinaries(): Promise<PostgresBinaries> {
  const found = await findNative();
  if (typeof found === "string") {
    throw new CliError(`${found}: enter the Nix shell (nix develop), or use --backend embedded`);
  }
  return found;
}

export const native = localBackend("native", nativeBinaries);
