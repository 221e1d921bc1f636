// Run before each test file, in the worker that runs it (vitest.config.ts setupFiles). The
// workers run many files in one process (isolate false: a forked process per file cost the suite
// ~1 CPU-second each), so what one file changes in the process must not reach the next:
// - process.env, which some files set for what they start (XDG_CACHE_HOME, XDG_STATE_HOME…), is
//   put back as it was;
// - the helpers' clean-ups of what they made in this file run (test/helpers/file-end.ts);
// - the file takes its test ports from the start of the worker's block again, as a new process did.
// Its afterAll is registered before the file's own hooks, so it runs after them all.

import { afterAll } from "vitest";
import { runFileEnd } from "../helpers/file-end.ts";
import { resetTestPorts } from "../helpers/ports.ts";

const env = { ...process.env };
resetTestPorts();

afterAll(async () => {
  try {
    await runFileEnd();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
    Object.assign(process.env, env);
  }
});
