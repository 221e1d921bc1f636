// The statement scanner behind the migrator's refusal of a file's own BEGIN/COMMIT. Every case
// below that PostgreSQL can parse (all but the unterminated ones) was also given to libpg-query 18
// (PostgreSQL's own parser, compiled to WASM) outside this repository, which split and classified
// each the same way; so were the 2,257 chunks of 522 files of five real public drizzle-kit
// histories (Dokploy, latitude-llm, Zero, scorebrawl, remix-relay).

import { describe, expect, it } from "vitest";
import { transactionControl } from "../src/migrations.ts";
import { isTransactionControl, splitStatements } from "../src/sql-lexer.ts";

/** Per top-level statement: whether it is transaction control. */
const control = (sql: string) => splitStatements(sql).map((s) => isTransactionControl(s.words));

describe("splitStatements finds transaction control", () => {
  it.each([
    ["BEGIN; COMMIT", [true, true]],
    [
      "begin work; commit transaction; end; abort; rollback; start transaction isolation level serializable; commit and chain",
      [true, true, true, true, true, true, true],
    ],
    ["BEGIN TRANSACTION\n;\nEnd Work", [true, true]],
    ["PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x'; ROLLBACK PREPARED 'x'", [true, true, true]],
  ])("%s", (sql, expected) => {
    expect(control(sql)).toEqual(expected);
  });

  it("but not what stays inside a transaction: savepoints, a prepared statement", () => {
    expect(
      control(
        "SAVEPOINT a; ROLLBACK TO SAVEPOINT a; ROLLBACK WORK TO a; RELEASE a; ROLLBACK TRANSACTION TO SAVEPOINT a; PREPARE q AS SELECT 1",
      ),
    ).toEqual([false, false, false, false, false, false]);
  });
});

describe("splitStatements skips what the server skips", () => {
  it.each([
    [
      "a plpgsql body in $$",
      "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql; SELECT 1",
      [false, false],
    ],
    [
      "a tagged dollar quote holding other tags and BEGIN; COMMIT;",
      "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN; COMMIT; $x$ END; $body$ LANGUAGE plpgsql",
      [false],
    ],
    [
      "drizzle-kit's DO block for an enum",
      "DO $$ BEGIN CREATE TYPE t AS ENUM ('a'); EXCEPTION WHEN duplicate_object THEN null; END $$; END",
      [false, true],
    ],
    [
      "a SQL-standard body: BEGIN ATOMIC … CASE … END … END",
      "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 ELSE 2 END; END; COMMIT",
      [false, true],
    ],
    [
      "a procedure's BEGIN ATOMIC",
      "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END; BEGIN",
      [false, true],
    ],
    [
      "strings, E'' escapes and quoted identifiers",
      `SELECT 'it''s; COMMIT'; SELECT E'\\'; COMMIT;'; SELECT "weird;""COMMIT"; COMMIT`,
      [false, false, false, true],
    ],
    [
      "U&'', B'', X'', N'' literals and U&\"\" identifiers",
      `SELECT U&'d\\0061t; COMMIT' ; SELECT U&"x;"; SELECT B'101', X'1F', N'x;'; COMMIT`,
      [false, false, false, true],
    ],
    [
      "nested block comments and line comments",
      "/* outer /* inner; COMMIT */ still; COMMIT */ SELECT 1; -- COMMIT;\nEND",
      [false, true],
    ],
    [
      "$ inside an identifier, and a parameter",
      "SELECT a$$b FROM t; SELECT $1; COMMIT",
      [false, false, true],
    ],
    [
      "semicolons inside parentheses (a rule's actions)",
      "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2)); ROLLBACK",
      [false, true],
    ],
    [
      "EXECUTE FUNCTION in a trigger (no body to track)",
      "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); BEGIN",
      [false, true],
    ],
    ["numbers", "SELECT 1.5e-3, .5; COMMIT", [false, true]],
  ])("%s", (_, sql, expected) => {
    expect(control(sql)).toEqual(expected);
  });

  it("an unterminated quote or comment hides the rest, as on the server", () => {
    expect(control("SELECT 'unterminated; COMMIT")).toEqual([false]);
    expect(control("SELECT 1; /* COMMIT; ")).toEqual([false]);
    expect(control("SELECT $$ COMMIT;")).toEqual([false]);
  });

  it("gives each statement's bounds and first words", () => {
    const sql = "  -- lead\nBEGIN  ;\n/* c */ commit and chain;;";
    const statements = splitStatements(sql);
    expect(statements.map((s) => [sql.slice(s.start, s.end), s.words])).toEqual([
      ["BEGIN", ["BEGIN"]],
      ["commit and chain", ["COMMIT", "AND", "CHAIN"]],
    ]);
  });
});

describe("transactionControl in a migration file", () => {
  const file = (text: string, transactional = true) => transactionControl({ text, transactional });

  it("names each hit by line and by the migrator's statement number", () => {
    const text = [
      "-- Custom SQL migration file",
      "CREATE TABLE a (id int);",
      "--> statement-breakpoint",
      "BEGIN;",
      "UPDATE a SET id = 1;",
      "COMMIT;--> statement-breakpoint",
      "",
      "--> statement-breakpoint",
      "commit   and\n  chain",
    ].join("\n");
    expect(file(text)).toEqual([
      { line: 4, statement: 2, text: "BEGIN" },
      { line: 6, statement: 2, text: "COMMIT" },
      { line: 9, statement: 3, text: "commit and chain" },
    ]);
  });

  it("finds none in a function body, and none in a file run without a transaction", () => {
    const body =
      "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;";
    expect(file(body)).toEqual([]);
    expect(
      file("-- kata:no-transaction\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON a (id);", false),
    ).toEqual([]);
  });

  it("shortens a long statement", () => {
    const [hit] = file(
      `BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE, NOT DEFERRABLE ${"/* x */ ".repeat(5)};`,
    );
    expect(hit?.text).toHaveLength(60);
    expect(hit?.text.endsWith("…")).toBe(true);
  });
});
