import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { README, readmeWithDiagram } from "../scripts/er-diagram.ts";

it("README.md shows the ER diagram that src/schema generates (npm run er-diagram)", () => {
  const readme = readFileSync(README, "utf8");
  expect(readmeWithDiagram(readme)).toBe(readme);
  expect(readme).toContain("teams ||--o{ specs");
});
