// `db roles`: the app's least-privilege role, set up by the CLI as a process, then used: every
// test connects as the app role and proves what it can and cannot do by the server's SQLSTATE.
// Roles are cluster-wide: this file's role has a name of its own and is dropped afterwards.

import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, dropTestDatabase, testContext } from "../src/testing/index.ts";
import { db, makeProject, oneLineError, type Project } from "./cli/helpers.ts";

const role = `kata_app_${randomBytes(4).toString("hex")}`;
const APP_PASSWORD = "app-Role-Passw0rd-x";
let url: string;
let appUrl: string;
let project: Project;
let owner: postgres.Sql;
let app: postgres.Sql;

const roles = (args: string[] = []) =>
  db(project.root, ["roles", "--app", role, ...args], {
    env: { DATABASE_URL: url, KATA_APP_PASSWORD: APP_PASSWORD },
  });

beforeAll(async () => {
  url = await createTestDatabase();
  project = await makeProject();
  owner = postgres(url, { max: 1, onnotice: () => {} });
  const u = new URL(url);
  u.username = role;
  u.password = APP_PASSWORD;
  appUrl = u.toString();
});
afterAll(async () => {
  await app?.end({ timeout: 1 });
  await owner?.end({ timeout: 1 });
  if (url) await dropTestDatabase(url);
  const admin = postgres(testContext().adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  await admin.end();
});

/** The SQLSTATE a statement fails with as the app role (undefined: it succeeded). */
const asApp = async (statement: string) => {
  try {
    await app.unsafe(statement);
    return undefined;
  } catch (error) {
    return (error as postgres.PostgresError).code;
  }
};

/** Every privilege of the role on every table: what a second run must leave the same. */
const privileges = () =>
  owner`SELECT c.relname, p.privilege_type FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p(privilege_type)
        WHERE c.relkind = 'r' AND has_table_privilege(${role}, c.oid, p.privilege_type)
        ORDER BY 1, 2`;

describe("db roles", () => {
  it("without a password: the role is made and has none", async () => {
    const run = await roles();
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(
        `Role ${role} created: DML on \\d+ tables, SELECT/INSERT only on audit_log, spec_versions`,
      ),
    );
    const [row] =
      await owner`SELECT rolpassword IS NULL AS none FROM pg_authid WHERE rolname = ${role}`;
    expect(row?.none).toBe(true);
  });

  it("--password-env sets it, never printed; a second run changes nothing", async () => {
    const before = await privileges();
    const run = await roles(["--password-env", "KATA_APP_PASSWORD"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`Role ${role} updated: .*, password set`));
    expect(run.stdout + run.stderr).not.toContain(APP_PASSWORD);
    expect(await privileges()).toEqual(before);
    app = postgres(appUrl, { max: 1, onnotice: () => {} });
  });

  it("DML on what the app writes", async () => {
    expect(await asApp(`INSERT INTO users (email, name) VALUES ('r@example.com', 'R')`)).toBe(
      undefined,
    );
    expect(await asApp(`UPDATE users SET name = 'R2' WHERE email = 'r@example.com'`)).toBe(
      undefined,
    );
    expect(await asApp(`SELECT * FROM users`)).toBe(undefined);
    expect(await asApp(`INSERT INTO teams (name, slug) VALUES ('T', 'role-test-team')`)).toBe(
      undefined,
    );
    expect(
      await asApp(
        `INSERT INTO audit_log (team_id, action) SELECT id, 'role.test' FROM teams WHERE slug = 'role-test-team'`,
      ),
    ).toBe(undefined);
    expect(await asApp(`DELETE FROM users WHERE email = 'r@example.com'`)).toBe(undefined);
  });

  it("no UPDATE or DELETE on audit_log and spec_versions (42501, before any trigger)", async () => {
    for (const table of ["audit_log", "spec_versions"]) {
      expect(await asApp(`UPDATE ${table} SET id = id`)).toBe("42501");
      expect(await asApp(`DELETE FROM ${table}`)).toBe("42501");
    }
  });

  it("no TRUNCATE, no DDL", async () => {
    expect(await asApp("TRUNCATE users CASCADE")).toBe("42501");
    expect(await asApp("TRUNCATE audit_log")).toBe("42501");
    expect(await asApp("CREATE TABLE app_made (id int)")).toBe("42501");
    expect(await asApp("ALTER TABLE users ADD COLUMN nick text")).toBe("42501");
    expect(await asApp("DROP TABLE artifacts")).toBe("42501");
    expect(await asApp("CREATE INDEX app_idx ON users (name)")).toBe("42501");
    expect(
      await asApp(
        "CREATE TRIGGER app_trg BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
      ),
    ).toBe("42501");
    expect(await asApp("SELECT * FROM drizzle.__drizzle_migrations")).toBe("42501");
  });

  it("cannot disable triggers: not the owner, and not superuser for session_replication_role", async () => {
    expect(await asApp("ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable")).toBe("42501");
    expect(await asApp("ALTER TABLE spec_versions DISABLE TRIGGER ALL")).toBe("42501");
    expect(await asApp("SET session_replication_role = replica")).toBe("42501");
  });

  it("default privileges: a table a later migration adds is covered", async () => {
    await owner`CREATE TABLE later_table (id int)`;
    expect(await asApp("INSERT INTO later_table VALUES (1)")).toBe(undefined);
    expect(await asApp("UPDATE later_table SET id = 2")).toBe(undefined);
    expect(await asApp("TRUNCATE later_table")).toBe("42501");
    expect(await asApp("DROP TABLE later_table")).toBe("42501");
  });

  it("db migrate as the app role: one ✖ line naming too little privilege, exit 1", async () => {
    // A pending migration the app role would have to run.
    await owner`DELETE FROM drizzle.__drizzle_migrations
                WHERE id = (SELECT max(id) FROM drizzle.__drizzle_migrations)`;
    const run = await db(project.root, ["migrate"], { env: { DATABASE_URL: appUrl } });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(
      new RegExp(
        `the role ${role} of DATABASE_URL has too little privilege to migrate \\(permission denied`,
      ),
    );
    expect(run.stdout + run.stderr).not.toContain(APP_PASSWORD);
  });

  it("run as the app role itself: refused in one line", async () => {
    const run = await db(project.root, ["roles", "--app", `${role}_x`], {
      env: { DATABASE_URL: appUrl },
    });
    expect(run.code).toBe(1);
    expect(oneLineError(run)).toMatch(/permission denied to create role|may not grant/);
  });
});
