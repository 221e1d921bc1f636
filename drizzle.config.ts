import { defineConfig } from "drizzle-kit";

// drizzle-kit reads src/schema and writes SQL migrations to drizzle/. Generate through
// `npm run db -- generate`, which also updates the integrity file; never `drizzle-kit push`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
  casing: "snake_case",
  strict: true,
  verbose: true,
  dbCredentials: { url: process.env.DATABASE_URL ?? "" },
});
