# shellcheck shell=bash
# shellcheck disable=SC2154 # the derivation's attributes and nix-sandbox.sh's variables, exported
# Stand-in for nixpkgs' autoPatchelfHook: `autoPatchelf PATH...` finds every library each ELF file
# under PATH needs — among the libraries under PATH itself, in the lib/ of the derivation's
# buildInputs and in the C library (Debian's libc6 stands in for glibc) — and fails, as
# auto-patchelf does, on one it cannot find that autoPatchelfIgnoreMissingDeps does not name. It
# does not rewrite interpreters or RPATHs: on this machine /lib64/ld-linux-x86-64.so.2 and the
# binaries' own RPATHs already work, which in the sandbox only the rewriting makes true.
autoPatchelf() {
  local -A have=() skipped=()
  local lib file needed pattern ignored missing=0 patterns
  read -ra patterns <<<"${autoPatchelfIgnoreMissingDeps-}" # words, never expanded as file names
  while IFS= read -r lib; do have[$lib]=1; done < <(
    find "$@" \( -type f -o -type l \) -name '*.so*' -printf '%f\n'
    for input in $buildInputs; do
      if [ -d "$input/lib" ]; then find "$input/lib/" -maxdepth 1 -name '*.so*' -printf '%f\n'; fi
    done
    cat "$kataLibcLibraries"
  )
  while IFS= read -r -d '' file; do
    while IFS= read -r needed; do
      [ -z "${have[$needed]-}" ] || continue
      ignored=
      for pattern in "${patterns[@]}"; do
        # shellcheck disable=SC2053 # a glob on purpose, as auto-patchelf matches
        if [[ $needed == $pattern ]]; then ignored=1; fi
      done
      if [ -n "$ignored" ]; then
        skipped[$needed]=1
      else
        echo "autoPatchelf (stand-in): could not satisfy dependency $needed wanted by $file" >&2
        missing=1
      fi
    done < <(/usr/bin/readelf -d "$file" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
  done < <(find "$@" -type f -print0 | xargs -0 -r grep -laZ -m1 $'^\x7fELF' || true)
  if ((${#skipped[@]})); then
    echo "autoPatchelf (stand-in): left missing, as autoPatchelfIgnoreMissingDeps allows: ${!skipped[*]}"
  fi
  if [ "$missing" = 1 ]; then
    echo "autoPatchelf (stand-in): failed to find all the required dependencies" >&2
    return 1
  fi
}
