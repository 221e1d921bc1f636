// A plain-Node script as a platform package would write one: migrate the database it is given,
// then write and read through @kata/db's typed client. `npm run build && DATABASE_URL=… npm start`.

import { closeDb, createDb, migrate, specs, teamMembers, teams, users } from "@kata/db";
import { eq } from "drizzle-orm";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set");
  process.exit(2);
}

const { applied } = await migrate({ url });
console.log(`migrated: ${applied.length} applied now`);

const db = createDb(url, { max: 2 });
try {
  // Typed inserts: a missing NOT NULL column or a wrong enum value is a compile error here.
  const [ada] = await db
    .insert(users)
    .values({ email: "ada@consumer.example", name: "Ada" })
    .returning();
  const [team] = await db
    .insert(teams)
    .values({ name: "Consumers", slug: "consumers" })
    .returning();
  if (!ada || !team) throw new Error("insert returned no row");
  await db.insert(teamMembers).values({ userId: ada.id, teamId: team.id, role: "admin" });
  await db.insert(specs).values({
    teamId: team.id,
    title: "Use @kata/db from another package",
    status: "active",
    content: { intent: "prove the package works as a dependency" },
    createdBy: ada.id,
  });

  // A relational query through the schema's relations.
  const found = await db.query.teams.findFirst({
    where: eq(teams.slug, "consumers"),
    with: { members: { with: { user: true } }, specs: { columns: { title: true, status: true } } },
  });
  const admin: string | undefined = found?.members[0]?.user.name;
  console.log(
    JSON.stringify({
      team: found?.slug,
      admin,
      specs: found?.specs.map((s) => `${s.title} (${s.status})`),
    }),
  );
} finally {
  await closeDb(db);
}
