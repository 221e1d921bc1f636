import { lastBackend } from "../backends/backend.ts";
import { backends } from "../backends/index.ts";
import { isLocalHost, loadConfig } from "../basics/env.ts";
import { interactive, which } from "../basics/system.ts";
import type { Runner } from "../cli/command.ts";
import { CliError } from "../cli/task.ts";

export default {
  async run(args) {
    const config = loadConfig();
    const redis = config.redis;
    if (!redis) throw new CliError("REDIS_URL is not set: add it to .env (see .env.example)");
    const backend = lastBackend(config);
    const client = backend && isLocalHost(redis.host) ? backends[backend].client : undefined;
    if (client) return client(config, "redis", args._);
    const cli = which("redis-cli");
    if (!cli) {
      throw new CliError(
        "redis-cli is not on PATH: install Redis (Debian/Ubuntu: apt-get install redis-tools; macOS: brew install redis), or enter the Nix shell (nix develop)",
      );
    }
    const tls = redis.url.startsWith("rediss:") ? ["--tls"] : [];
    const target = ["-h", redis.host.replace(/^\[(.*)\]$/, "$1"), "-p", String(redis.port), ...tls];
    return interactive(
      cli,
      [...target, ...args._],
      redis.password ? { REDISCLI_AUTH: redis.password } : {},
    );
  },
} satisfies Runner;
