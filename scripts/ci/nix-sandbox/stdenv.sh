# shellcheck shell=bash
# shellcheck disable=SC2154 # the derivation's attributes and nix-sandbox.sh's variables, exported
# Stand-in for nixpkgs' stdenv builder (pkgs/stdenv/generic/setup.sh), run by nix-sandbox.sh as
# the build user inside the sandbox's namespaces, after the derivation's attributes were
# exported. Only what a check derivation uses: PATH from its inputs plus the stdenv tools, the
# inputs' setup hooks, runHook, patchShebangs, and the phases in stdenv's order (the source is
# already unpacked in $NIX_BUILD_TOP/$sourceRoot). Anything else the flake adds to a check makes
# nix-sandbox.sh stop with "not emulated", so nothing is skipped silently.
set -eo pipefail

# ── PATH and setup hooks: every input's bin/ and nix-support/setup-hook, then stdenv's tools ──
# shellcheck disable=SC2123 # the sandbox's PATH is made from the inputs alone
PATH=
for input in $nativeBuildInputs $buildInputs $kataStdenvTools; do
  if [ -d "$input/bin" ]; then PATH=${PATH:+$PATH:}$input/bin; fi
done
export PATH

# `runHook NAME`: the NAME attribute or function, then each function of the NAMEHooks array.
runHook() {
  local name=$1 hook
  shift
  if declare -F "$name" >/dev/null; then
    "$name" "$@"
  elif [ -n "${!name-}" ]; then
    eval "${!name}"
  fi
  local hooks="${name}Hooks[@]"
  for hook in ${!hooks+"${!hooks}"}; do
    "$hook" "$@"
  done
}

# `patchShebangs PATH...`: in every executable file starting `#!`, `/usr/bin/env prog` and
# `/abs/path/prog` become the prog found on PATH (an input's), keeping the arguments and the file's
# modification time (the CLI compares sources' and its bundle's), as nixpkgs' does.
patchShebangs() {
  local file first interp args found stamp
  while IFS= read -r -d '' file; do
    [ "$(head -c2 "$file")" = '#!' ] || continue
    IFS= read -r first <"$file" || true
    read -r interp args <<<"${first#\#!}"
    if [ "$interp" = /usr/bin/env ]; then
      [ "${args#-S }" = "$args" ] || args=${args#-S }
      read -r interp args <<<"$args"
    fi
    case $interp in /nix/store/* | "$NIX_BUILD_TOP"/*) continue ;; esac
    found=$(type -P "$(basename "$interp")") || {
      echo "patchShebangs: $file: no $(basename "$interp") on PATH" >&2
      continue
    }
    stamp=$(stat -c %y "$file")
    sed -i "1c #!$found${args:+ $args}" "$file"
    touch -d "$stamp" "$file"
  done < <(find "$@" -type f -perm -0100 -print0)
}

# ── phases, in stdenv's order (unpack already done) ────────────────────────────────────────────
# shellcheck disable=SC1090,SC1091 # each input's own hook
for input in $nativeBuildInputs $buildInputs; do
  if [ -f "$input/nix-support/setup-hook" ]; then source "$input/nix-support/setup-hook"; fi
done

cd "$NIX_BUILD_TOP/$sourceRoot"
# At the top level, not in a function: the phases' exports (the npm hook's HOME) must last.
declare -A defaultPhase=(
  [patchPhase]='runHook prePatch; runHook postPatch'
  [configurePhase]='runHook preConfigure; runHook postConfigure'
  [buildPhase]='runHook preBuild; runHook postBuild'
  [checkPhase]='runHook preCheck; runHook postCheck'
  [installPhase]='runHook preInstall; runHook postInstall'
)
for phase in patchPhase configurePhase buildPhase checkPhase installPhase; do
  if [ "$phase" = checkPhase ] && [ -z "${doCheck-}" ]; then continue; fi
  echo "── nix-sandbox: $phase"
  eval "${!phase:-${defaultPhase[$phase]}}"
done
[ -e "$out" ] || { echo "nix-sandbox: the build made no \$out" >&2; exit 1; }
