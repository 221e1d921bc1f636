import { forgetBackend, lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { loadConfig, requireLocal } from "../basics/env.ts";
import { withStackLock } from "../checkout/stack-lock.ts";
import type { Command } from "../cli/command.ts";
import { info } from "../cli/task.ts";

export default {
  name: "down",
  summary: "stop the stack; --volumes also deletes its data (local targets only)",
  help: `Usage: db down [--volumes]

Stops PostgreSQL and Redis of the backend the last \`db up\` used here. Data is kept: the next
\`db up\` brings it back.

--volumes  also delete the data (.data/postgres and .data/redis, or the compose volumes).
           Refused unless DATABASE_URL points at this machine (127.0.0.1, localhost, ::1).`,
  flags: { boolean: ["volumes"] },
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
} satisfies Command;
