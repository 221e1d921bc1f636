// The package.json that `npm pack` / `npm publish` put in the tarball: this checkout's, without
// what only the checkout uses. npm 11 warns on every install about a dependency's `prepare`
// script (here: installing the git hooks), and the other scripts and tool settings name files the
// tarball does not ship. package.json's prepack runs `strip` (npm reads the manifest again after
// prepack), postpack runs `restore`.
//   node scripts/pack-manifest.mjs strip|restore
// Plain JavaScript: it runs before anything is built.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

const MANIFEST = "package.json";
const BACKUP = ".package.json.prepack";
/** Fields that mean something only in the checkout. */
const CHECKOUT_ONLY = ["scripts", "lint-staged", "allowScripts", "devDependencies"];

const [action] = process.argv.slice(2);
if (action === "strip") {
  if (existsSync(BACKUP)) {
    console.error(
      `pack-manifest: ${BACKUP} exists: an earlier pack did not finish; run \`node scripts/pack-manifest.mjs restore\` first`,
    );
    process.exit(1);
  }
  const text = readFileSync(MANIFEST, "utf8");
  const manifest = JSON.parse(text);
  for (const field of CHECKOUT_ONLY) delete manifest[field];
  writeFileSync(BACKUP, text);
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
} else if (action === "restore") {
  if (existsSync(BACKUP)) renameSync(BACKUP, MANIFEST);
} else {
  console.error("usage: node scripts/pack-manifest.mjs strip|restore");
  process.exit(2);
}
