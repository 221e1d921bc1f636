// The rooms of scripts/ and the one way imports run between them (docs/internals.md), checked by
// dependency-cruiser: `npm run deps`, and the `deps` check of scripts/ci/checks.sh (.ci/run and
// `nix flake check`). A room may import its own files, the rooms listed for it and src/; nothing
// else of this project. A file that needs something from a room above it is in the wrong room:
// move it (or the function), do not import up and do not add the room here without a reason.

/** Each room of scripts/, from the top down, and the rooms below it that it may import. */
const ROOMS = {
  commands: ["backends", "branches", "guards", "checkout", "basics", "cli"],
  backends: ["checkout", "basics", "cli"],
  branches: ["basics", "cli"],
  guards: ["basics", "cli"],
  checkout: ["basics", "cli"],
  basics: ["cli"],
  cli: [],
};

const roomRules = Object.entries(ROOMS).map(([room, below]) => ({
  name: `${room}-imports-down`,
  severity: "error",
  comment: below.length
    ? `scripts/${room}/ may import only ${below.map((r) => `scripts/${r}/`).join(", ")} and src/ (docs/internals.md): move the file or the function it needs instead of importing up or sideways`
    : `scripts/${room}/ is the floor of the CLI: it imports nothing else of scripts/ (docs/internals.md)`,
  from: { path: `^scripts/${room}/` },
  to: { path: "^scripts/", pathNot: `^scripts/(${[room, ...below].join("|")})/` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "a cycle: the files depend on each other, so neither can be read or moved alone",
      from: {},
      to: { circular: true },
    },
    {
      name: "src-is-the-library",
      severity: "error",
      comment:
        "src/ is the published library (dist/): it never imports the CLI, the tests or the benchmarks",
      from: { path: "^src/" },
      to: { path: "^(scripts|test|bench|examples)/" },
    },
    {
      name: "scripts-not-tests",
      severity: "error",
      comment: "the CLI never imports the tests, the benchmarks or the examples",
      from: { path: "^scripts/" },
      to: { path: "^(test|bench|examples)/" },
    },
    {
      name: "rooms-not-the-top",
      severity: "error",
      comment:
        "the entry (scripts/db.ts) and the other top-level scripts sit above every room: no room imports them",
      from: { path: "^scripts/[^/]+/" },
      to: { path: "^scripts/[^/]+$" },
    },
    ...roomRules,
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "an import of a file or package that does not exist (a path left behind by a move?)",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7 (the native compiler) has no JavaScript API for dependency-cruiser to parse
    // with (it supports typescript < 7), so .ts files are read with swc (@swc/core, a dev
    // dependency). swc sees `import type` too: a type from a room above is an upward import.
    parser: "swc",
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    // Packages as Node resolves them for an ES module (package.json "exports", e.g. zx/core).
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default"],
    },
    exclude: { path: "(^|/)(node_modules|dist)/" },
  },
};
