import type postgres from "postgres";
import { expect } from "vitest";

/** Run a statement that must be rejected by the server with this SQLSTATE (and constraint). */
export async function expectRejected(
  statement: Promise<unknown>,
  code: string,
  constraint?: string,
): Promise<void> {
  const error = await statement.then(
    () => undefined,
    (e: postgres.PostgresError) => e,
  );
  expect(error, `expected SQLSTATE ${code}${constraint ? ` (${constraint})` : ""}`).toBeDefined();
  expect({ code: error?.code, constraint: error?.constraint_name }).toEqual({
    code,
    constraint: constraint ?? error?.constraint_name,
  });
}
