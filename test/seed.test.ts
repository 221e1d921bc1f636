// The seed data of `db seed`, as @kata/db/testing gives it to other packages: seed(db) inserts
// the same picture on every machine, and a second time inserts nothing.

import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { hashApiKey } from "../src/api-keys.ts";
import { apiKeys, specVersions, users } from "../src/schema/index.ts";
import { DEV_API_KEY, seed, seedIds, useTestDatabase } from "../src/testing/index.ts";

const t = useTestDatabase();

it("inserts the picture once, then nothing; fixed ids and timestamps", async () => {
  const first = await seed(t.db);
  expect(first).toBeGreaterThan(0);
  expect(await seed(t.db)).toBe(0);
  const [ada] = await t.db.select().from(users).where(eq(users.id, seedIds.ada));
  expect(ada).toMatchObject({
    email: "ada@example.com",
    createdAt: new Date("2026-01-05T09:00:00Z"),
  });
  const versions = await t.db
    .select({ n: specVersions.versionNumber, actor: specVersions.actorType })
    .from(specVersions)
    .where(eq(specVersions.specId, seedIds.spec))
    .orderBy(specVersions.versionNumber);
  expect(versions).toEqual([
    { n: 1, actor: "user" },
    { n: 2, actor: "agent" },
  ]);
  const [key] = await t.db.select({ hash: apiKeys.keyHash }).from(apiKeys);
  expect(key?.hash).toBe(hashApiKey(DEV_API_KEY));
});
