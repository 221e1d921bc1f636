// Whose server is this? Several checkouts (clones, git worktrees) of this package may run local
// stacks side by side, and a system PostgreSQL may listen too. Every PostgreSQL server this CLI
// starts — native, embedded or docker — runs with PostgreSQL's own `cluster_name` setting set to
// `kata-db:<checkout id>:<directory name>`, readable by any user with `SHOW cluster_name`, so one
// query tells our server from another checkout's or a stranger's. The id is derived from the
// checkout's real path; a small registry in the per-user state directory maps ids back to paths,
// so a message can say which checkout holds a port.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { sha256 } from "../../src/hash.ts";

const PREFIX = "kata-db";

/** Stable per checkout directory (its real path), short enough for names and messages. */
export function checkoutId(root: string): string {
  let real = root;
  try {
    real = realpathSync(root);
  } catch {}
  return sha256(real).slice(0, 10);
}

/** The directory name, reduced to what cluster_name (printable ASCII, < 64 bytes) and compose accept. */
const label = (root: string) =>
  basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .slice(0, 40) || "root";

/** PostgreSQL's cluster_name for this checkout's local server. */
export const clusterName = (root: string) => `${PREFIX}:${checkoutId(root)}:${label(root)}`;

export interface ClusterOwner {
  id: string;
  label: string;
}

/** The checkout a cluster_name names, or undefined when kata-db did not start that server. */
export function parseClusterName(name: string | undefined): ClusterOwner | undefined {
  const match = /^kata-db:([0-9a-f]{10}):(.+)$/.exec(name ?? "");
  return match ? { id: match[1] as string, label: match[2] as string } : undefined;
}

/** Per-user state (XDG_STATE_HOME), shared by every checkout of this user. */
const registryDir = () =>
  join(process.env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "kata-db", "checkouts");

/** Remember where this checkout is, so other checkouts can name it. Best effort: never fails. */
export function recordCheckout(root: string): void {
  try {
    const dir = registryDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, checkoutId(root)), `${realpathSync(root)}\n`);
  } catch {}
}

/** The paths of every checkout recorded by this user; entries of removed directories are dropped. */
export function knownCheckouts(): string[] {
  try {
    return readdirSync(registryDir()).flatMap((id) => {
      const path = checkoutPath(id);
      if (path && existsSync(path)) return [path];
      rmSync(join(registryDir(), id), { force: true });
      return [];
    });
  } catch {
    return [];
  }
}

/** The per-user state directory, for a lock shared by every checkout. */
export const registryPath = () => registryDir();

/** The path of a checkout by id, when it ran `db up` as this user. */
export function checkoutPath(id: string): string | undefined {
  try {
    return readFileSync(join(registryDir(), id), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who runs the server whose cluster_name is `name`, for messages: "this checkout",
 * "the kata-db checkout /path/to/other", "a PostgreSQL not started by kata-db (cluster_name '…')".
 */
export function describeOwner(name: string | undefined, root: string): string {
  const owner = parseClusterName(name);
  if (!owner) {
    return `a PostgreSQL not started by this project${name ? ` (cluster_name '${name}')` : ""}`;
  }
  if (owner.id === checkoutId(root)) return "this checkout";
  const path = checkoutPath(owner.id);
  return path ? `the kata-db checkout ${path}` : `another kata-db checkout (${owner.label})`;
}

/** True when the server's cluster_name says this checkout started it. */
export const ownedBy = (name: string | undefined, root: string) =>
  parseClusterName(name)?.id === checkoutId(root);
