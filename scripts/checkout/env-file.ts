// The .env of a new checkout: its own ports (ports.ts), and the checkout recorded (identity.ts)
// so that other checkouts can name it.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { isLocalHost, PACKAGE_ROOT, projectRoot } from "../basics/env.ts";
import { CliError } from "../cli/task.ts";
import { recordCheckout } from "./identity.ts";
import { allocatePorts } from "./ports.ts";

/**
 * Create .env from .env.example when it is missing; never overwrite. The local ports of the
 * example become this checkout's own (scripts/checkout/ports.ts), so checkouts side by side never
 * share a server. True when created.
 */
export async function ensureEnvFile(root = projectRoot()): Promise<boolean> {
  if (!existsSync(root))
    throw new CliError(`the project directory ${root} does not exist (KATA_DB_ROOT)`);
  const env = join(root, ".env");
  if (existsSync(env)) return false;
  const example = [join(root, ".env.example"), join(PACKAGE_ROOT, ".env.example")].find(existsSync);
  if (!example) throw new CliError(`no .env and no .env.example in ${root}`);
  const text = readFileSync(example, "utf8");
  const values = parseEnv(text);
  const port = (value: string | undefined, fallback: number) => {
    try {
      return value ? Number(new URL(value).port) || fallback : fallback;
    } catch {
      return fallback;
    }
  };
  let created = false;
  await allocatePorts(
    root,
    { postgres: port(values.DATABASE_URL, 5432), redis: port(values.REDIS_URL, 6379) },
    (ports) => {
      const withPort = (name: string, value: string, to: number) => {
        const url = new URL(value);
        if (!isLocalHost(url.hostname)) return `${name}=${value}`;
        url.port = String(to);
        return `${name}=${url.toString()}`;
      };
      const lines = text.split("\n").map((line) => {
        const match = /^(DATABASE_URL|REDIS_URL)=(.+)$/.exec(line);
        if (!match?.[1] || !match[2]) return line;
        try {
          return withPort(
            match[1],
            match[2],
            match[1] === "REDIS_URL" ? ports.redis : ports.postgres,
          );
        } catch {
          return line;
        }
      });
      // wx: a .env written meanwhile by someone else is kept, not replaced.
      try {
        writeFileSync(env, lines.join("\n"), { flag: "wx" });
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      recordCheckout(root);
    },
  );
  return created;
}
