#!/usr/bin/env bash
# A current Nix (Debian trixie's nix-bin 2.26, unpacked into a private prefix by trixie.sh and run
# through that prefix's own loader; the system's Nix is never replaced) evaluates the flake as
# `nix flake show` and `nix flake check --no-build` do, for all four systems, with the stub
# nixpkgs of scripts/ci/stub-nixpkgs as its nixpkgs input (the real one cannot be fetched here):
# every output is instantiated (each check and the dev shell a derivation, the formatter a
# package), which Debian's Nix 2.8 in verify-nix.sh cannot do with flakes of this Nix's era.
# Nix 2.8 stays the floor README states for what verify-nix.sh checks; real nixpkgs is used by the
# GitHub workflow (.github/workflows/nix.yml).
#   scripts/ci/nix-current.sh     (KATA_TRIXIE_NIX: the prefix, kept between runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
started=$SECONDS
fail() {
  echo "nix-current: ✖ $*" >&2
  exit 1
}

prefix=${KATA_TRIXIE_NIX:-/var/cache/kata-db/trixie-nix}
bash scripts/ci/trixie.sh --with-deps "$prefix" nix-bin >/dev/null || fail "cannot unpack trixie's nix-bin into $prefix"
libs=$prefix/usr/lib/x86_64-linux-gnu
nix() { "$libs/ld-linux-x86-64.so.2" --library-path "$libs:$prefix/usr/lib" --argv0 nix "$prefix/usr/bin/nix" "$@"; }

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# As in verify-nix.sh: flakes on, nothing to substitute from, no build users, a throwaway store.
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters =\nbuild-users-group =\n'"store = $tmp/store"
export XDG_CACHE_HOME=$tmp/cache

version=$(nix --version) || fail "the unpacked Nix does not start: $version"
if ! [[ $version =~ ([0-9]+)\.([0-9]+) ]] || ((BASH_REMATCH[1] == 2 && BASH_REMATCH[2] < 18)); then
  fail "$version is older than 2.18, the oldest that evaluates current nixpkgs"
fi
flags=(--offline --no-write-lock-file --all-systems --override-input nixpkgs "path:$root/scripts/ci/stub-nixpkgs")
# The error line of a Nix run, with its location when Nix gives one.
nix_error() { grep -m1 -o 'error: .*' "$1" || tail -n1 "$1"; }

nix flake show --json "${flags[@]}" "$root" >"$tmp/show.json" 2>"$tmp/show.err" ||
  fail "nix flake show: $(nix_error "$tmp/show.err")"
# Every system: one check per name scripts/ci/checks.sh knows, plus devShell; a dev shell; a formatter.
set +e
known=$(bash scripts/ci/checks.sh nix-current-no-such-check 2>&1 | sed -n 's/.*(known: \(.*\)).*/\1/p')
set -e
[ -n "$known" ] || fail "cannot get the check names from scripts/ci/checks.sh"
problems=$(node - "$tmp/show.json" "$known" <<'JS'
const fs = require("node:fs");
const [file, known] = process.argv.slice(2);
const show = JSON.parse(fs.readFileSync(file, "utf8"));
const systems = ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"];
const want = [...known.split(" "), "devShell"].sort();
const problems = [];
for (const system of systems) {
  const checks = Object.keys(show.checks?.[system] ?? {}).sort();
  if (checks.join() !== want.join()) problems.push(`${system}: checks ${checks.join(",")}, expected ${want.join(",")}`);
  if (show.devShells?.[system]?.default?.type !== "derivation") problems.push(`${system}: no dev shell`);
  if (show.formatter?.[system]?.type !== "derivation") problems.push(`${system}: no formatter`);
}
console.log(problems.join("; "));
JS
)
[ -z "$problems" ] || fail "nix flake show: $problems"
echo "nix-current: ✔ $version: nix flake show lists, for 4 systems, checks $(tr ' ' , <<<"$known"),devShell, a dev shell and a formatter"

nix flake check --no-build "${flags[@]}" "$root" >"$tmp/check.out" 2>&1 ||
  fail "nix flake check --no-build: $(nix_error "$tmp/check.out")"
drvs=$(grep -c 'derivation evaluated to' "$tmp/check.out" || true)
echo "nix-current: ✔ nix flake check --no-build --all-systems: every output evaluates, $drvs derivations instantiated (stub nixpkgs) in $((SECONDS - started)) s"
