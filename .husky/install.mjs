// `npm ci` / `npm install` run this (package.json "prepare"): point git at .husky/ for the hooks.
// Harmless where it cannot apply: husky itself skips with HUSKY=0, without .git (e.g. the Nix
// build sandbox, a tarball) and without git; without dev dependencies (`npm ci --omit=dev`)
// husky is not installed, and neither are the tools the hooks run.
try {
  const { default: husky } = await import("husky");
  const skipped = husky();
  if (skipped) console.log(`husky: git hooks not installed (${skipped})`);
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
  console.log("husky: git hooks not installed (husky is a dev dependency, not installed here)");
}
