// Which backend `db up` uses: the one asked for (--backend, then DB_BACKEND), else the one that ran
// last in this directory (its data is there), else the first that works of docker → native →
// embedded. The reason is printed with the choice.

import { dirname } from "node:path";
import { POSTGRES_MAJOR } from "../../src/postgres-cluster.ts";
import type { BackendName, Config } from "../basics/env.ts";
import { CliError } from "../cli/task.ts";
import { type Backend, lastBackend } from "./backend.ts";
import { docker, dockerEngine } from "./docker.ts";
import { embedded } from "./embedded.ts";
import { findNative, native } from "./native.ts";

export const backends: Record<BackendName, Backend> = { docker, native, embedded };

export interface Choice {
  backend: Backend;
  /** Why this one, for the user: "--backend", "used last time here", "a Docker engine answers"… */
  why: string;
}

export async function chooseBackend(config: Config, flag?: BackendName): Promise<Choice> {
  const last = lastBackend(config);
  const asked = flag
    ? { name: flag, why: `--backend ${flag}` }
    : config.backend
      ? { name: config.backend, why: `DB_BACKEND=${config.backend}` }
      : undefined;
  if (asked) {
    // Switching while the other stack runs would collide on its ports and confuse both.
    if (last && last !== asked.name && (await backends[last].running(config))) {
      throw new CliError(
        `the ${last} stack from the last \`db up\` is still running: stop it with \`db down\`, then \`db up\` again`,
      );
    }
    return { backend: backends[asked.name], why: asked.why };
  }
  if (last) return { backend: backends[last], why: "used last time in this directory" };

  const engine = await dockerEngine();
  if (engine.ok) return { backend: docker, why: "a Docker engine answers" };
  const found = await findNative();
  if (typeof found !== "string") {
    return {
      backend: native,
      why: `${engine.why}, and PostgreSQL ${POSTGRES_MAJOR} is on PATH (${dirname(found.postgres)})`,
    };
  }
  return { backend: embedded, why: `${engine.why}, and ${found}` };
}
