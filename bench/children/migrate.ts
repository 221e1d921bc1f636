// Our migrator as a program of its own, for bench/migrator.ts: `db migrate` without the CLI
// around it, on any folder. Prints how many files it applied and how long migrate() took.

import { migrate } from "../../src/migrator.ts";

const [url, folder] = process.argv.slice(2);
if (!url || !folder) throw new Error("usage: migrate.ts <url> <folder>");
const started = performance.now();
const { applied } = await migrate({ url, folder });
process.stdout.write(JSON.stringify({ applied: applied.length, ms: performance.now() - started }));
