import type { Service } from "../backends/backend.ts";
import { lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { loadConfig } from "../basics/env.ts";
import type { Runner } from "../cli/command.ts";
import { CliError } from "../cli/task.ts";
import { serviceArg } from "./flags.ts";

export default {
  async run(args) {
    const service = serviceArg(args);
    const config = loadConfig();
    const backend = lastBackend(config);
    if (!backend) throw new CliError("no stack was started here yet: run `db up` first");
    return backends[backend].logs(config, {
      service: service satisfies Service | undefined,
      follow: Boolean(args.follow),
    });
  },
} satisfies Runner;
