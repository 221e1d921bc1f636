import { specs, tasks } from "@kata/db";
import { seed, seedIds, useTestDatabase } from "@kata/db/testing";
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";

const t = useTestDatabase();

it("seeds the same picture as `db seed`: fixed ids, the second time nothing", async () => {
  expect(await seed(t.db)).toBeGreaterThan(0);
  expect(await seed(t.db)).toBe(0);
  const [spec] = await t.db
    .select({ title: specs.title })
    .from(specs)
    .where(eq(specs.id, seedIds.spec));
  expect(spec).toEqual({ title: "Sign in with passkeys" });
  expect(await t.db.$count(tasks, eq(tasks.specId, seedIds.spec))).toBe(3);
});
