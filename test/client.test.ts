// The typed client on a real server: relational queries, constraint violations as typed errors
// naming the constraint, and API keys stored only as hashes.

import { and, desc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  apiKeyIsActive,
  apiKeys,
  CheckViolation,
  createApiKey,
  ForeignKeyViolation,
  hashApiKey,
  InvalidEnumValue,
  isApiKeyActive,
  NotNullViolation,
  RestrictViolation,
  specs,
  specVersions,
  teamMembers,
  teams,
  UniqueViolation,
  users,
  withDbErrors,
} from "../src/index.ts";
import { useTestDatabase } from "../src/testing/index.ts";

const database = useTestDatabase();
let userId: string;
let teamId: string;

beforeAll(async () => {
  const { db } = database;
  const [user] = await db
    .insert(users)
    .values({ email: "grace@example.com", name: "Grace" })
    .returning();
  const [team] = await db
    .insert(teams)
    .values({ name: "Compilers", slug: "compilers" })
    .returning();
  userId = user?.id ?? "";
  teamId = team?.id ?? "";
  await db.insert(teamMembers).values({ userId, teamId, role: "admin" });
});

describe("typed client", () => {
  it("maps camelCase fields to the snake_case columns and reads relations", async () => {
    const { db } = database;
    const [spec] = await db
      .insert(specs)
      .values({
        teamId,
        title: "Parser",
        createdBy: userId,
        content: { intent: "parse", taskIds: [] },
      })
      .returning();
    await db.insert(specVersions).values([
      { specId: spec?.id ?? "", versionNumber: 1, content: {}, actorId: userId, actorType: "user" },
      { specId: spec?.id ?? "", versionNumber: 2, content: {}, actorId: userId, actorType: "user" },
    ]);
    const found = await db.query.specs.findFirst({
      where: eq(specs.id, spec?.id ?? ""),
      with: { author: true, team: true, versions: { orderBy: desc(specVersions.versionNumber) } },
    });
    expect(found?.author.email).toBe("grace@example.com");
    expect(found?.team.slug).toBe("compilers");
    expect(found?.versions.map((v) => v.versionNumber)).toEqual([2, 1]);
    expect(found?.content.intent).toBe("parse");
    expect(found?.createdAt).toBeInstanceOf(Date);
  });
});

describe("typed errors name the violated constraint", () => {
  const cases = [
    {
      name: "unique",
      run: () => database.db.insert(teams).values({ name: "X", slug: "compilers" }),
      type: UniqueViolation,
      constraint: "teams_slug_key",
    },
    {
      name: "foreign key",
      run: () =>
        database.db
          .insert(teamMembers)
          .values({ userId, teamId: "00000000-0000-4000-8000-000000000999" }),
      type: ForeignKeyViolation,
      constraint: "team_members_team_id_fkey",
    },
    {
      name: "check",
      run: () => database.db.insert(teams).values({ name: "X", slug: "Not A Slug" }),
      type: CheckViolation,
      constraint: "teams_slug_check",
    },
    {
      name: "not null",
      // Bypasses the types on purpose: what a caller with untyped input could send.
      run: () =>
        database.db
          .insert(users)
          .values({ email: "n@example.com", name: null as unknown as string }),
      type: NotNullViolation,
      constraint: undefined,
    },
    {
      name: "restrict",
      run: () => database.db.delete(users).where(eq(users.id, userId)),
      type: RestrictViolation,
      constraint: "specs_created_by_fkey",
    },
  ] as const;

  for (const c of cases) {
    it(c.name, async () => {
      const error = await withDbErrors(async () => c.run()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(c.type);
      expect((error as CheckViolation).constraint).toBe(c.constraint);
      expect((error as CheckViolation).code).toMatch(/^23/);
    });
  }

  it("enum", async () => {
    const error = await withDbErrors(async () =>
      database.db
        .insert(teamMembers)
        // Bypasses the types on purpose, as above.
        .values({ userId, teamId, role: "owner" as "admin" }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEnumValue);
    expect(error).toMatchObject({ enumName: "team_role", value: "owner" });
  });

  it("leaves other errors alone", async () => {
    const error = await withDbErrors(() => Promise.reject(new Error("network down"))).catch(
      (e: unknown) => e,
    );
    expect(error).toEqual(new Error("network down"));
  });
});

describe("API keys", () => {
  it("makes a key, its display prefix and the hash that is stored", () => {
    const { key, prefix, keyHash } = createApiKey();
    expect(key).toMatch(/^kata_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(prefix)).toBe(true);
    expect(prefix).toHaveLength(13);
    expect(keyHash).toBe(hashApiKey(key));
    expect(keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(createApiKey().key).not.toBe(key);
  });

  it("stores only the hash, finds the key by it, and derives 'active'", async () => {
    const { db } = database;
    const active = createApiKey();
    const revoked = createApiKey();
    const expiring = createApiKey();
    // Issued a second ago, so revoked_at and expires_at (after created_at, as the CHECKs
    // demand) are in the past however long the insert takes on a loaded machine.
    const issued = Date.now() - 1000;
    const createdAt = new Date(issued);
    const past = new Date(issued + 50);
    await db.insert(apiKeys).values([
      { teamId, createdBy: userId, name: "active", prefix: active.prefix, keyHash: active.keyHash },
      {
        teamId,
        createdBy: userId,
        name: "revoked",
        prefix: revoked.prefix,
        keyHash: revoked.keyHash,
        createdAt,
        revokedAt: new Date(issued + 10),
      },
      {
        teamId,
        createdBy: userId,
        name: "expiring",
        prefix: expiring.prefix,
        keyHash: expiring.keyHash,
        createdAt,
        expiresAt: past,
      },
    ]);
    const stored = await database.sql`SELECT key_hash FROM api_keys WHERE key_hash = ${active.key}`;
    expect(stored).toHaveLength(0);

    const [byHash] = await db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, hashApiKey(active.key)));
    expect(byHash?.name).toBe("active");
    expect(byHash && isApiKeyActive(byHash)).toBe(true);

    const activeNames = await db
      .select({ name: apiKeys.name })
      .from(apiKeys)
      .where(and(eq(apiKeys.teamId, teamId), apiKeyIsActive()));
    expect(activeNames.map((k) => k.name)).toEqual(["active"]);
  });

  it("refuses to store a raw key", async () => {
    const { key, prefix } = createApiKey();
    const error = await withDbErrors(async () =>
      database.db
        .insert(apiKeys)
        .values({ teamId, createdBy: userId, name: "raw", prefix, keyHash: key }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckViolation);
    expect((error as CheckViolation).constraint).toBe("api_keys_key_hash_check");
  });
});
