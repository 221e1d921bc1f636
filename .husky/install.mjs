// `npm ci` / `npm install` run this (package.json "prepare"): point git at .husky/ for the hooks.
// Harmless where it cannot apply: husky itself skips with HUSKY=0, without .git (e.g. the Nix
// build sandbox, a tarball) and without git; without dev dependencies (`npm ci --omit=dev`)
// husky is not installed, and neither are the tools the hooks run.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// husky 9 writes every hook git runs (.husky/_/pre-commit, …) starting `#!/usr/bin/env sh`, and
// git executes them directly. Where there is no /usr/bin/env (the Nix build sandbox has only
// /bin/sh) no hook can start, so they get the interpreter line git's own sample hooks use.
function hooksWithoutEnv(dir = ".husky/_") {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    const text = readFileSync(file, "utf8");
    if (text.startsWith("#!/usr/bin/env sh\n")) {
      writeFileSync(file, `#!/bin/sh\n${text.slice("#!/usr/bin/env sh\n".length)}`);
    }
  }
}

try {
  const { default: husky } = await import("husky");
  const skipped = husky();
  if (skipped) console.log(`husky: git hooks not installed (${skipped})`);
  else hooksWithoutEnv();
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
  console.log("husky: git hooks not installed (husky is a dev dependency, not installed here)");
}
