import { rmSync } from "node:fs";
import { forgetBackend, lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { loadConfig, requireLocal } from "../basics/env.ts";
import { forgetAppliedSql } from "../branches/branch-copies.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Runner } from "../cli/command.ts";
import { info } from "../cli/task.ts";
import { driftCache } from "../guards/live-drift.ts";

export default {
  async run(args) {
    const config = loadConfig();
    const volumes = Boolean(args.volumes);
    if (volumes) requireLocal(config, "delete data (db down --volumes)");
    const nothing = () => {
      info("no stack was started here (no .data/backend): nothing to stop");
      return 0;
    };
    if (!lastBackend(config)) return nothing();
    return withStackLock(config, `db down${volumes ? " --volumes" : ""}`, async () => {
      // Again, holding the lock: a `db down` that ran meanwhile may have forgotten it.
      const last = lastBackend(config);
      if (!last) return nothing();
      await backends[last].down(config, { volumes });
      if (volumes) {
        // What this checkout kept about the deleted database goes with it: the texts of the
        // migrations it had applied and its remembered drift verdicts.
        forgetAppliedSql(config);
        rmSync(driftCache(config), { recursive: true, force: true });
        forgetBackend(config);
      }
      return 0;
    });
  },
} satisfies Runner;
