import { forgetBackend, lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { loadConfig, requireLocal } from "../basics/env.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Runner } from "../cli/command.ts";
import { info } from "../cli/task.ts";

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
      if (volumes) forgetBackend(config);
      return 0;
    });
  },
} satisfies Runner;
