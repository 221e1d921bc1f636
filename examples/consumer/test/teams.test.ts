import { teams } from "@kata/db";
import { useTestDatabase } from "@kata/db/testing";
import { expect, it } from "vitest";

const t = useTestDatabase();

it("writes a team into this file's own database", async () => {
  console.log(`clone of the template for this file: ${t.cloneMs.toFixed(1)} ms`);
  await t.db.insert(teams).values({ name: "Written by teams.test", slug: "from-teams-test" });
  const rows = await t.db.select({ slug: teams.slug }).from(teams);
  // Another file writes its own team at the same time, into its own database: not seen here.
  expect(rows).toEqual([{ slug: "from-teams-test" }]);
});
