// The bundle of drizzle-kit/api and drizzle-orm the drift rule loads (scripts/guards/kit-bundle.ts):
// a schema run with its require gets the bundle's drizzle-orm, the very module drizzle-kit's API
// was bundled with, and a part of drizzle-orm the bundle does not hold sends the rule back to the
// packages as installed. That both paths give drizzle-kit's verdict is drift-compare.test.ts's.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCommonJs } from "../../scripts/guards/code-cache.ts";
import { bundledRequire, type Kit, kitBundle, loadKit } from "../../scripts/guards/kit-bundle.ts";
import { Scratch } from "../../scripts/guards/scratch.ts";
import { PACKAGE_ROOT } from "../helpers/project-copy.ts";

describe("the drizzle-kit bundle", () => {
  const scratch = new Scratch(PACKAGE_ROOT);
  afterAll(() => scratch.remove());

  it("gives a schema run with its require the drizzle-orm drizzle-kit/api was bundled with", async () => {
    const bundle = await kitBundle(PACKAGE_ROOT, scratch);
    expect(bundle).toBeDefined();
    const kit = loadKit(bundle as string).exports;
    expect(typeof kit.generateDrizzleJson).toBe("function");
    const schema = join(scratch.folder("drift"), "schema.cjs");
    writeFileSync(
      schema,
      'exports.pgTable = require("drizzle-orm/pg-core").pgTable;\nexports.sql = require("drizzle-orm").sql;\nexports.join = require("node:path").join;\n',
    );
    const require = bundledRequire(kit, schema, [
      "drizzle-orm",
      "drizzle-orm/pg-core",
      "node:path",
    ]);
    expect(require).toBeDefined();
    const fromSchema = runCommonJs<Record<string, unknown>>(
      schema,
      require as (id: string) => unknown,
    );
    const orm = kit.orm as Record<string, Record<string, unknown>>;
    expect(fromSchema.pgTable).toBe(orm["drizzle-orm/pg-core"]?.pgTable);
    expect(fromSchema.sql).toBe(orm["drizzle-orm"]?.sql);
    expect(fromSchema.join).toBe(join); // any other module as installed
    // And not the installed package's: that one is another module.
    const installed = await import("drizzle-orm/pg-core");
    expect(fromSchema.pgTable).not.toBe(installed.pgTable);
    // drizzle-kit's API in the bundle recognises the schema's tables (one drizzle-orm).
    const pgTable = fromSchema.pgTable as (name: string, columns: object) => unknown;
    const json = kit.generateDrizzleJson({ table: pgTable("bundled", {}) });
    expect(Object.keys(json.tables)).toEqual(["public.bundled"]);
  });

  it("declines a part of drizzle-orm it does not hold", () => {
    const kit = { orm: {} } as Kit;
    expect(
      bundledRequire(kit, join(scratch.dir, "x.cjs"), [
        "drizzle-orm",
        "drizzle-orm/pg-core/columns",
      ]),
    ).toBeUndefined();
  });
});
