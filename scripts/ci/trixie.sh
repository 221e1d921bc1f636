#!/usr/bin/env bash
# Unpack Debian trixie packages into a private prefix, for the few tools bookworm (this machine's
# release) has only in versions too old for us: the compose v2 plugin (bookworm ships compose v1
# only) and a current Nix (bookworm's nix-bin is 2.8). The trixie suite comes from the same mirror
# the machine already uses, through a private apt configuration: the system's sources, lists and
# installed packages are never touched, and nothing is installed with dpkg -i.
#   scripts/ci/trixie.sh [--with-deps] PREFIX PACKAGE...
# --with-deps also fetches the packages' whole dependency closure (for dynamically linked tools,
# run through the prefix's own loader); without it only the named packages (static binaries).
# Prints PREFIX's path on success; a PREFIX that already holds the packages is reused as it is.
set -euo pipefail

deps=false
if [ "${1:-}" = --with-deps ]; then deps=true; shift; fi
[ $# -ge 2 ] || { echo "usage: $0 [--with-deps] PREFIX PACKAGE..." >&2; exit 2; }
prefix=$1; shift
stamp="$prefix/.kata-trixie-$(printf '%s\n' "$deps" "$@" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then echo "$prefix"; exit 0; fi

# The machine's own Debian mirror (deb822 or one-line format), so no other host is ever named.
mirror=$(grep -hoE '^URIs:[[:space:]]*[^[:space:]]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'NR == 1 {print $2}')
[ -n "$mirror" ] || mirror=$(grep -hoE '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+/debian/?[[:space:]]' /etc/apt/sources.list 2>/dev/null | awk 'NR == 1 {print $NF}')
[ -n "$mirror" ] || { echo "trixie.sh: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2; exit 1; }

state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$state/sources.list"
touch "$state/status"
apt_opts=(
  -o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
  # An empty dpkg status: apt resolves the closure as if nothing were installed, so the prefix is
  # complete on its own and never mixes with bookworm's libraries.
  -o "Dir::State::status=$state/status"
  -o APT::Architecture="$(dpkg --print-architecture)" -o Debug::NoLocking=1 -qq
  # The private directories belong to root; apt's unprivileged download user could not write them.
  -o APT::Sandbox::User=root
)
apt-get "${apt_opts[@]}" update
packages=("$@")
if $deps; then
  mapfile -t packages < <(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "$@" | grep -E '^[a-z0-9]' | sort -u)
fi
(cd "$state/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}")
mkdir -p "$prefix"
for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
touch "$stamp"
echo "$prefix"
