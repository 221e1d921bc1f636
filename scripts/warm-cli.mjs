// `npm ci` / `npm install` run this after the hooks are installed (package.json "prepare"): build
// the bundle of the `db` CLI now (scripts/bin/db builds it on the first call when there is none, and
// that call waits ~0.5 s for esbuild), so that the first `db up` of a fresh clone does not; and run
// `db check` once, which makes the drift rule's bundle of drizzle-kit/api and its code cache
// (scripts/guards/kit-bundle.ts, code-cache.ts): without them the first schema commit of a clone
// waited ≈0.6 s more in its pre-commit hook.
// Best effort and silent: without bash, esbuild or the sources (an install without dev
// dependencies, a tarball) the first `db` call builds it, or falls back, as it would anyway.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const db = fileURLToPath(new URL("bin/db", import.meta.url));
if (existsSync(db) && process.platform !== "win32") {
  // Its first call builds the bundle, as any command's would. Its verdict does not matter here
  // (a tree in the middle of a change may fail it).
  spawnSync("bash", [db, "check"], { stdio: "ignore", timeout: 60_000 });
}
