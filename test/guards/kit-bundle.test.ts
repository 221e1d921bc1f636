// The bundle of drizzle-kit/api and drizzle-orm the drift rule loads (scripts/guards/kit-bundle.ts):
// a schema bundled beside it gets the bundle's drizzle-orm, the very module drizzle-kit's API was
// bundled with, and a part of drizzle-orm the bundle does not hold sends the rule back to the
// packages as installed. That both paths give drizzle-kit's verdict is drift-compare.test.ts's.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { kitBundle, useBundledOrm } from "../../scripts/guards/kit-bundle.ts";
import { Scratch } from "../../scripts/guards/scratch.ts";
import { PACKAGE_ROOT } from "../helpers/project-copy.ts";

describe("the drizzle-kit bundle", () => {
  const scratch = new Scratch(PACKAGE_ROOT);
  afterAll(() => scratch.remove());

  it("gives a schema beside it the drizzle-orm drizzle-kit/api was bundled with", async () => {
    const bundle = await kitBundle(PACKAGE_ROOT, scratch);
    expect(bundle).toBeDefined();
    const dir = scratch.folder("drift");
    expect(
      useBundledOrm(dir, bundle as string, ["drizzle-orm", "drizzle-orm/pg-core", "node:fs"]),
    ).toBe(true);
    const schema = join(dir, "schema.mjs");
    writeFileSync(
      schema,
      'export { pgTable } from "drizzle-orm/pg-core";\nexport { sql } from "drizzle-orm";\n',
    );
    const fromSchema = await import(pathToFileURL(schema).href);
    const fromBundle = await import(
      pathToFileURL(join(bundle as string, "drizzle-orm_pg-core.mjs")).href
    );
    expect(fromSchema.pgTable).toBe(fromBundle.pgTable);
    // And not the installed package's: that one is another module.
    const installed = await import("drizzle-orm/pg-core");
    expect(fromSchema.pgTable).not.toBe(installed.pgTable);
  });

  it("declines a part of drizzle-orm it does not hold, and writes nothing then", () => {
    const dir = join(scratch.dir, "declined");
    mkdirSync(dir);
    expect(useBundledOrm(dir, "/nowhere", ["drizzle-orm", "drizzle-orm/pg-core/columns"])).toBe(
      false,
    );
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
  });
});
