#!/usr/bin/env bash
# The project's checks, defined once. `.ci/run` runs them all after installing; each check of
# `nix flake check` runs one of them by name, so CI and the flake cannot drift apart.
#   scripts/ci/checks.sh            run every check in order
#   scripts/ci/checks.sh lint test  run the named ones
set -euo pipefail
cd "$(dirname "$0")/../.."

check_typecheck() { npm run --silent typecheck; }
check_lint() { npm run --silent lint; }
check_test() { npm test; }
# The migration guards on the whole tree (no database; without .git, e.g. in the Nix sandbox,
# the git-based rules are skipped with a note).
check_dbcheck() { npm run --silent db -- check; }
# docker-compose.yml against the Compose specification (no Docker engine needed).
check_compose() { npx tsx scripts/validate-compose.ts; }

all=(typecheck lint test dbcheck compose)
selected=("${@:-${all[@]}}")
for name in "${selected[@]}"; do
  if ! declare -F "check_$name" >/dev/null; then
    echo "checks.sh: unknown check '$name' (known: ${all[*]})" >&2
    exit 2
  fi
  echo "── check: $name"
  start=$SECONDS
  "check_$name"
  echo "── check: $name passed in $((SECONDS - start)) s"
done
