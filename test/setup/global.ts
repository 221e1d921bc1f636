// Vitest global setup of this package's own tests: @kata/db/testing's (one server, the template
// migrated with the committed migrations, reused while they are unchanged; test files clone it),
// plus the `db` CLI bundled once for the CLI tests and a scratch folder in memory as TMPDIR
// (./scratch.ts).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import harness from "../../src/testing/index.ts";
import { removeAtExit } from "../../src/testing/reaper.ts";
import { PACKAGE_ROOT } from "../helpers/project-copy.ts";
import { scratchDir } from "./scratch.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `db` CLI bundled once for this run (scripts/build-cli.mjs), run by test/cli/helpers.ts. */
    cliBundle: string;
  }
}

/**
 * The CLI as scripts/bin/db runs it (one plain node process on a bundle), built once here rather
 * than by the first of many concurrent calls; tsx would cost ~0.3 s of CPU per call.
 */
function bundleCli(): { file: string; remove: () => void } {
  // Under node_modules, like scripts/bin/db's: the packages it leaves out resolve from there.
  const cache = join(PACKAGE_ROOT, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  // Named by this process, and removed however the run ends (src/testing/reaper.ts).
  const dir = mkdtempSync(join(cache, `kata-db-test-cli-${process.pid}-`));
  const forget = removeAtExit(dir);
  const file = join(dir, "db.mjs");
  execFileSync(process.execPath, [join(PACKAGE_ROOT, "scripts", "build-cli.mjs"), file], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    file,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

export default async function setup(project: TestProject) {
  // A file of extra CA certificates (a proxy's, for npm) is parsed by every node process at its
  // start, used or not: 144 certificates cost each ≈0.09 CPU-s here, against ≈0.03 for all of
  // `node -e 0` without them, and the suite starts ~600 node processes. None of them needs one:
  // every connection a test makes is to this machine, TLS ones to certificates it made itself.
  delete process.env.NODE_EXTRA_CA_CERTS;
  const scratch = scratchDir();
  const cli = bundleCli();
  project.provide("cliBundle", cli.file);
  const stopServer = await harness(project);
  // After the harness's server started: what has TMPDIR here is stopped with the scratch folder
  // (./scratch.ts), and a server KATA_KEEP_FAILED_DB keeps must not be.
  process.env.TMPDIR = scratch.dir;
  return async () => {
    await stopServer();
    cli.remove();
    scratch.remove();
  };
}
