// Clean-up at the end of the test file that made something. The workers run their files one
// after another in one process (vitest.config.ts: isolate false), so a helper module is loaded
// once per worker: an afterAll at its top would be registered in the first file only. What a
// helper makes is registered here as it is made; test/setup/per-file.ts runs it after each
// file's own afterAll hooks (those stop the servers that use it), newest first.

const pending: (() => unknown)[] = [];

/** Run `clean` once the current test file has finished. */
export function atFileEnd(clean: () => unknown): void {
  pending.push(clean);
}

/** Every clean-up registered during this file, newest first; all run even when one fails. */
export async function runFileEnd(): Promise<void> {
  const errors: unknown[] = [];
  for (const clean of pending.splice(0).reverse()) {
    try {
      await clean();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new AggregateError(errors, "clean-ups at the end of the file failed");
}
