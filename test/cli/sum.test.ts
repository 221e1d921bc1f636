// `db sum FOLDER`, as a process: the integrity file of a drizzle-kit folder that `db generate`
// did not write, after which our migrator applies that folder.

import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Journal } from "../../src/migrations.ts";
import { migrate } from "../../src/migrator.ts";
import { createTestDatabase, dropTestDatabase } from "../../src/testing/index.ts";
import { writeFolder } from "../helpers/migrations-folder.ts";
import { db, makeProject, oneLineError, PACKAGE_ROOT } from "./helpers.ts";

const project = await makeProject();
const sum = (...args: string[]) => db(project.root, ["sum", ...args]);
const databases: string[] = [];
afterAll(async () => {
  for (const url of databases) await dropTestDatabase(url);
});

const history = () =>
  writeFolder([
    { tag: "20240101123456_init", sql: "CREATE TABLE a (id int);" },
    { tag: "20240102080000_more", sql: "CREATE TABLE b (id int);" },
  ]);

describe("db sum", () => {
  it("explains itself", async () => {
    const run = await sum("--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: db sum FOLDER\n/);
    expect(run.stdout).toMatch(/writeIntegrityFile\(FOLDER\)/);
  });

  it("records a folder db generate did not write; migrate({ folder }) then applies it", async () => {
    const folder = history();
    await expect(migrate({ url: "postgres://nobody@127.0.0.1:1/none", folder })).rejects.toThrow(
      `refusing to migrate: ${folder}/migrations.sum is missing`,
    );
    const run = await sum(folder);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(`✔ Recorded 2 of 2 migrations in ${folder}/migrations.sum\n`);
    const url = await createTestDatabase(null);
    databases.push(url);
    expect((await migrate({ url, folder })).applied).toEqual([
      "20240101123456_init",
      "20240102080000_more",
    ]);

    const again = await sum(folder);
    expect(again.stderr).toBe(`✔ ${folder}/migrations.sum up to date (2 migrations)\n`);
  });

  it("is append-only: a new entry gets its line, a recorded file that changed is reported", async () => {
    const folder = history();
    expect((await sum(folder)).code).toBe(0);
    const before = readFileSync(join(folder, "migrations.sum"), "utf8");
    const journalFile = join(folder, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
    journal.entries.push({
      idx: 2,
      version: "7",
      when: Date.UTC(2024, 0, 3),
      tag: "20240103000000_third",
      breakpoints: true,
    });
    writeFileSync(journalFile, JSON.stringify(journal));
    writeFileSync(join(folder, "20240103000000_third.sql"), "CREATE TABLE c (id int);");
    writeFileSync(join(folder, "meta", "20240103000000_snapshot.json"), "{}");
    const added = await sum(folder);
    expect(added.stderr).toBe(`✔ Recorded 1 of 3 migrations in ${folder}/migrations.sum\n`);
    const after = readFileSync(join(folder, "migrations.sum"), "utf8").split("\n");
    expect(after.slice(2, 4)).toEqual(before.split("\n").slice(2, 4));

    appendFileSync(join(folder, "20240101123456_init.sql"), "\n-- edited\n");
    const edited = await sum(folder);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(
      new RegExp(`^✖ ${folder}/20240101123456_init\\.sql changed after it was committed`, "m"),
    );
    expect(edited.stderr).toMatch(/^✖ db sum: .*migrations\.sum kept its lines/m);
  });

  it("names the files the migrator would refuse, and still records them", async () => {
    const folder = writeFolder([
      { tag: "0000_init", sql: "CREATE TABLE a (id int);" },
      { tag: "0001_backfill", sql: "BEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;" },
    ]);
    const run = await sum(folder);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `• ${folder}/0001_backfill.sql:1: its own \`BEGIN\` — the migrator refuses to apply this file wherever it is pending (docs/migrator.md)\n`,
    );
  });

  it("refuses what it cannot record, in one line each", async () => {
    expect(oneLineError(await sum())).toBe("✖ db sum needs the migrations folder: db sum FOLDER");
    expect((await sum()).code).toBe(2);
    const missing = join(project.root, "no-such-folder");
    expect(oneLineError(await sum(missing))).toBe(`✖ ${missing}: no such folder`);
    const sqlite = writeFolder([{ tag: "0000_init", sql: "CREATE TABLE a (id integer);" }], {
      dialect: "sqlite",
    });
    expect(oneLineError(await sum(sqlite))).toBe(
      `✖ db sum ${sqlite}: ${sqlite}/meta/_journal.json is a sqlite history: the migrator applies PostgreSQL ones (dialect postgresql)`,
    );
    const ours = await sum(join(PACKAGE_ROOT, "drizzle"));
    expect(ours.code).toBe(1);
    expect(oneLineError(ours)).toMatch(/is this package's drizzle\/: `db generate` records/);
  });
});
