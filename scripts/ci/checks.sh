#!/usr/bin/env bash
# The project's checks, defined once. `.ci/run` runs them all after installing; each check of
# `nix flake check` runs one of them by name, so CI and the flake cannot drift apart.
#   scripts/ci/checks.sh            run every check in order (`all`, then `ci_only`)
#   scripts/ci/checks.sh lint test  run the named ones
set -euo pipefail
cd "$(dirname "$0")/../.."

check_typecheck() { npm run --silent typecheck; }
check_lint() { npm run --silent lint; }
# Imports run one way between the rooms of scripts/, src/ never imports scripts/, no cycles
# (.dependency-cruiser.cjs, docs/internals.md).
check_deps() { npm run --silent deps; }
check_test() { npm test; }
# The migration guards on the whole tree (no database; without .git, e.g. in the Nix sandbox,
# the git-based rules are skipped with a note).
check_dbcheck() { npm run --silent db -- check; }
# docker-compose.yml against the Compose specification (no Docker engine needed).
check_compose() { npx tsx scripts/validate-compose.ts; }
# The examples of README.md and docs/*.md, run in a scratch clone (docs/testing.md, "The examples
# in these docs run"). Not a flake check, so not in `all`: the Nix sandbox has no network (the
# consumer's `npm install`), no Docker engine and no .git (the docs' walk-through is git commits,
# switches and a rebase), so most blocks would be skipped there, and what would remain is what
# the `test` check already covers. .ci/run runs it, with the npm registry and a Docker engine.
check_doctest() { npx tsx scripts/ci/doctest.ts; }

# The flake builds one check per name of this line (flake.nix reads it); `ci_only` are .ci/run's.
all=(typecheck lint deps test dbcheck compose)
ci_only=(doctest)
if (($#)); then selected=("$@"); else selected=("${all[@]}" "${ci_only[@]}"); fi
for name in "${selected[@]}"; do
  if ! declare -F "check_$name" >/dev/null; then
    # One line for the flake's names: verify-nix.sh and nix-current.sh read it.
    echo "checks.sh: unknown check '$name' (known: ${all[*]})" >&2
    echo "checks.sh: and, in .ci/run only: ${ci_only[*]}" >&2
    exit 2
  fi
  echo "── check: $name"
  start=$SECONDS
  "check_$name"
  echo "── check: $name passed in $((SECONDS - start)) s"
done
