import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { DIAGRAM_FILE, withDiagram } from "../scripts/er-diagram.ts";

it("docs/schema.md shows the ER diagram that src/schema generates (npm run er-diagram)", () => {
  const text = readFileSync(DIAGRAM_FILE, "utf8");
  expect(withDiagram(text)).toBe(text);
  expect(text).toContain("teams ||--o{ specs");
});
