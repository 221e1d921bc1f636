// A few lines of the Redis protocol instead of spawning redis-cli: health checks run on every
// `db up` and `db status`, and redis-cli may not even be installed (status still has to answer).

import { connect } from "node:net";
import { connect as connectTls } from "node:tls";
import { trustedRoots } from "../../src/tls.ts";
import type { RedisTarget } from "./env.ts";

const encode = (args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

/** Send one command (after AUTH when the URL has a password); resolves with a simple reply. */
export function redisCommand(
  target: RedisTarget,
  args: string[],
  timeoutMs = 2000,
): Promise<string> {
  const commands = target.password ? [["AUTH", target.password], args] : [args];
  const url = new URL(target.url);
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const options = { host: target.host.replace(/^\[(.*)\]$/, "$1"), port: target.port };
    const socket =
      url.protocol === "rediss:"
        ? connectTls({ ...options, servername: options.host, ca: trustedRoots() })
        : connect(options);
    let buffer = "";
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`Redis at ${where} did not answer within ${timeoutMs} ms`)),
    );
    socket.once(url.protocol === "rediss:" ? "secureConnect" : "connect", () =>
      socket.write(commands.map(encode).join("")),
    );
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      const replies = buffer.split("\r\n").slice(0, -1);
      if (replies.length < commands.length) return;
      socket.end();
      const failed = replies.find((reply) => reply.startsWith("-"));
      if (failed) reject(new Error(`Redis at ${where}: ${failed.slice(1)}`));
      else resolve(replies[commands.length - 1]?.slice(1) ?? "");
    });
    socket.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ECONNREFUSED"
          ? new Error(`nothing accepts connections at ${where}`)
          : error,
      ),
    );
    socket.once("close", () => reject(new Error(`Redis at ${where} closed the connection`)));
  });
}

export interface RedisHealth {
  healthy: boolean;
  /** Why not healthy, and what to do. */
  reason?: string;
}

export async function pingRedis(target: RedisTarget): Promise<RedisHealth> {
  try {
    const reply = await redisCommand(target, ["PING"]);
    return reply === "PONG"
      ? { healthy: true }
      : { healthy: false, reason: `PING answered ${reply}` };
  } catch (error) {
    return { healthy: false, reason: (error as Error).message };
  }
}
