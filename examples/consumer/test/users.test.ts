import { CheckViolation, teams, users, withDbErrors } from "@kata/db";
import { useTestDatabase } from "@kata/db/testing";
import { expect, it } from "vitest";

const t = useTestDatabase();

it("writes a user and a team into this file's own database", async () => {
  console.log(`clone of the template for this file: ${t.cloneMs.toFixed(1)} ms`);
  await t.db.insert(users).values({ email: "grace@consumer.example", name: "Grace" });
  await t.db.insert(teams).values({ name: "Written by users.test", slug: "from-users-test" });
  expect(await t.db.select({ slug: teams.slug }).from(teams)).toEqual([
    { slug: "from-users-test" },
  ]);
});

it("the schema's invariants hold here too: a blank name is refused by PostgreSQL", async () => {
  const insert = withDbErrors(() =>
    t.db.insert(users).values({ email: "x@consumer.example", name: " " }),
  );
  await expect(insert).rejects.toBeInstanceOf(CheckViolation);
  await expect(insert).rejects.toMatchObject({ constraint: "users_name_check" });
});
