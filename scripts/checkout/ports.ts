// Ports for a new checkout's .env. Two checkouts (clones, git worktrees) with the ports of
// .env.example would each find the other's server and take it for their own, so each gets its
// own when its .env is created: near the defaults (54329, 63799), offset by a number derived
// from the checkout id (the same directory gets the same ports again), then the next port that
// is neither listening nor written in another known checkout's .env. A lock in the per-user
// state directory keeps two `db up` started together from picking the same ones.

import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { portInUse } from "../basics/system.ts";
import { checkoutId, knownCheckouts, registryPath } from "./identity.ts";

/** Ports other checkouts of this user have in their .env (running or not). */
function claimedPorts(root: string): Set<number> {
  const ports = new Set<number>();
  for (const path of knownCheckouts()) {
    if (checkoutId(path) === checkoutId(root)) continue;
    try {
      const env = parseEnv(readFileSync(join(path, ".env"), "utf8"));
      for (const value of [env.DATABASE_URL, env.REDIS_URL]) {
        const port = value ? Number(new URL(value).port) : 0;
        if (port) ports.add(port);
      }
    } catch {}
  }
  return ports;
}

async function freeFrom(start: number, taken: Set<number>): Promise<number> {
  for (let port = start; port < start + 500 && port < 65536; port++) {
    if (taken.has(port)) continue;
    if (!(await portInUse(port, "127.0.0.1").catch(() => true))) return port;
  }
  return start; // nothing free nearby: `db up` will say the port is in use, and by whom
}

/** Run `fn` holding the per-user port lock (a directory: mkdir is atomic); a stale one is broken. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const dir = registryPath();
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, "..", "ports.lock");
  for (let tries = 0; ; tries++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
      if (age > 10_000 || tries > 200) rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CheckoutPorts {
  postgres: number;
  redis: number;
}

/** This checkout's ports, offset 1–99 from the defaults (never the defaults themselves). */
export async function allocatePorts(
  root: string,
  defaults: CheckoutPorts,
  write: (ports: CheckoutPorts) => void,
): Promise<CheckoutPorts> {
  const offset = 1 + (Number.parseInt(checkoutId(root).slice(0, 6), 16) % 99);
  return withLock(async () => {
    const taken = claimedPorts(root);
    const postgres = await freeFrom(defaults.postgres + offset, taken);
    taken.add(postgres);
    const redis = await freeFrom(defaults.redis + offset, taken);
    const ports = { postgres, redis };
    write(ports); // inside the lock: the next checkout sees them claimed
    return ports;
  });
}
