// Scratch folders of one `db check` run, removed at its end — also when it fails or is
// interrupted. They live in node_modules/.cache (git-ignored, inside the project, so a staged
// src/schema written there still resolves drizzle-orm from node_modules); where node_modules is
// read-only (e.g. a Nix store) in the system's temp folder, with NODE_PATH set for drizzle-kit.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export class Scratch {
  readonly dir: string;
  /** True when `dir` is under the package's node_modules (module resolution works as is). */
  readonly inProject: boolean;
  private readonly onSignal = (signal: (typeof SIGNALS)[number]) => {
    this.remove();
    process.exit(EXIT_CODES[signal]);
  };
  private readonly onExit = () => this.remove();

  constructor(packageRoot: string) {
    const cache = join(packageRoot, "node_modules", ".cache");
    let dir: string;
    try {
      mkdirSync(cache, { recursive: true });
      dir = mkdtempSync(join(cache, "kata-db-check-"));
      this.inProject = true;
    } catch {
      dir = mkdtempSync(join(tmpdir(), "kata-db-check-"));
      this.inProject = false;
    }
    this.dir = dir;
    for (const signal of SIGNALS) process.once(signal, this.onSignal);
    // Also when the process ends some other way (process.exit, an uncaught error).
    process.once("exit", this.onExit);
  }

  private readonly others: string[] = [];

  /** Also remove `path` (made elsewhere, e.g. a cache entry being built) with the scratch folder. */
  alsoRemove(path: string): void {
    this.others.push(path);
  }

  /** A new empty folder inside the scratch folder. */
  folder(name: string): string {
    const path = join(this.dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  remove(): void {
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
    process.off("exit", this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
    for (const path of this.others.splice(0)) rmSync(path, { recursive: true, force: true });
  }
}
