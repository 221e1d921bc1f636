// Ports for a new checkout's .env (scripts/checkout/ports.ts): derived from the checkout, so the
// same directory gets the same ones again; never the defaults; a port something listens on, or one
// another known checkout has in its .env, is passed over.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordCheckout } from "../../scripts/checkout/identity.ts";
import { allocatePorts, type CheckoutPorts } from "../../scripts/checkout/ports.ts";
import { reservePorts } from "../helpers/ports.ts";

// Stand-ins for .env.example's 54329 and 63799, from this worker's own block of test ports: near
// the real ones, another file's `db up` may be listening (a checkout's ports are chosen beside
// the defaults), and a port taken there would shift one choice and not the other. Offsets are
// 1–99 and a taken port is passed over, so 150 ports each.
const first = reservePorts(300);
const DEFAULTS = { postgres: first, redis: first + 150 };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kata-db-ports-"));
  // The per-user registry of checkouts, private to this file (a forked worker of its own).
  process.env.XDG_STATE_HOME = join(dir, "state");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const checkout = (name: string) => mkdtempSync(join(dir, `${name}-`));
const ports = (root: string) => allocatePorts(root, DEFAULTS, () => {});

describe("ports of a new checkout", () => {
  it("the same directory gets the same ports; never the defaults; near them", async () => {
    const root = checkout("a");
    const first = await ports(root);
    expect(await ports(root)).toEqual(first);
    expect(first.postgres).not.toBe(DEFAULTS.postgres);
    expect(first.redis).not.toBe(DEFAULTS.redis);
    expect(first.postgres - DEFAULTS.postgres).toBeGreaterThan(0);
    expect(first.postgres - DEFAULTS.postgres).toBeLessThan(100);
    expect(first.redis - DEFAULTS.redis).toBe(first.postgres - DEFAULTS.postgres);
  });

  it("passes over a port something listens on, and one another checkout's .env has", async () => {
    const root = checkout("b");
    const wanted = await ports(root);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(wanted.postgres, "127.0.0.1", resolve));
    try {
      const next = await ports(root);
      expect(next.postgres).toBeGreaterThan(wanted.postgres);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }

    // Another checkout wrote these ports in its .env (its server is down): they are taken too.
    const other = checkout("c");
    const claimed: CheckoutPorts = await ports(root);
    writeFileSync(
      join(other, ".env"),
      `DATABASE_URL=postgres://k:k@127.0.0.1:${claimed.postgres}/k\nREDIS_URL=redis://127.0.0.1:${claimed.redis}\n`,
    );
    recordCheckout(other);
    const after = await ports(root);
    expect(after.postgres).not.toBe(claimed.postgres);
    expect(after.redis).not.toBe(claimed.redis);
  });
});
