#!/usr/bin/env bash
# @kata/db as a dependency, the way the platform's other packages get it: `npm pack` (which builds
# dist/ and strips the checkout-only fields from the manifest), then examples/consumer copied to a
# new directory and the tarball installed there from the npm registry's packages. In it:
#   - installing prints no warning about @kata/db (no install script of ours runs);
#   - typecheck with a new project's defaults, nodenext and bundler resolution;
#   - a plain-node script migrates an empty database and writes and queries through the types;
#   - the vitest suite on @kata/db/testing, twice: the second run must reuse the template.
# Needs the npm registry (the consumer's own dependencies), so .ci/run runs it, not the flake.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
started=$SECONDS
say() { echo "consumer: $*"; }
fail() {
  echo "consumer: ✖ $*" >&2
  exit 1
}

work=$(mktemp -d)
chmod 755 "$work" # as root, the test servers run as `postgres`, which must reach in here
stack=$work/stack
cleanup() {
  [ -f "$stack/.env" ] && KATA_DB_ROOT=$stack "$root/scripts/bin/db" down --volumes >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/kata-db-*.tgz)
say "packed $(basename "$tarball") ($(tar tzf "$tarball" | wc -l) files)"
cp -r examples/consumer "$work/consumer"
mv "$tarball" "$work/consumer/kata-db.tgz"
cd "$work/consumer"

npm install --no-audit --no-fund >install.log 2>&1 || { cat install.log >&2; fail "npm install failed"; }
if grep -i 'warn' install.log | grep 'kata/db' >/dev/null; then # not -q: no SIGPIPE under pipefail
  cat install.log >&2
  fail "installing @kata/db printed a warning"
fi
say "installed: $(grep -m1 -E '^(added|up to date)' install.log)"

npm run --silent typecheck || fail "typecheck failed (nodenext or bundler resolution)"
say "typecheck passed with nodenext and bundler resolution"

# An empty database to migrate: a local stack of this checkout's own CLI, then a new database.
mkdir -p "$stack"
chmod 755 "$stack"
echo "DATABASE_URL=postgres://kata:consumer-example@127.0.0.1:$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')/kata" >"$stack/.env"
KATA_DB_ROOT=$stack "$root/scripts/bin/db" up --backend embedded >/dev/null 2>"$work/up.log" ||
  { cat "$work/up.log" >&2; fail "db up for the consumer's database failed"; }
url=$(grep DATABASE_URL "$stack/.env" | cut -d= -f2-)
# postgres.js as the consumer installed it: no psql needed on the machine.
node --input-type=module -e 'import postgres from "postgres"; const sql = postgres(process.argv[1], { max: 1 }); await sql.unsafe("CREATE DATABASE consumer"); await sql.end();' "$url"
npm run --silent build
out=$(DATABASE_URL=${url%/kata}/consumer node dist/main.js) || fail "the plain-node script failed"
say "plain node $(node --version): ${out//$'\n'/; }"
grep -q 'migrated: [1-9]' <<<"$out" || fail "the script applied no migration to an empty database"
grep -q '"admin":"Ada"' <<<"$out" || fail "the relational query did not return the admin"

# A cache of its own: the first run starts from nothing (initdb, migrate), as on a new machine.
export XDG_CACHE_HOME=$work/cache
first_started=$SECONDS
first=$(npx vitest run 2>&1) || { echo "$first" | tail -40 >&2; fail "the consumer's vitest suite failed"; }
first_s=$((SECONDS - first_started))
second_started=$SECONDS
second=$(npx vitest run 2>&1) || { echo "$second" >&2; fail "the consumer's vitest suite failed on the second run"; }
second_s=$((SECONDS - second_started))
grep -q 'template .* migrated now' <<<"$first" || { echo "$first" >&2; fail "the first run did not migrate the template"; }
grep -q 'template .* reused' <<<"$second" || { echo "$second" >&2; fail "the second run migrated the template again"; }
clones=$(grep -ho 'clone of the template for this file: [0-9.]* ms' <<<"$first$second" | grep -o '[0-9.]* ms' | paste -sd, -)
say "vitest: first run ${first_s} s ($(grep -o 'template kata_template_[0-9a-f]* [a-z ]*' <<<"$first")), second ${second_s} s (reused); per-file clones: ${clones}"
say "✔ passed in $((SECONDS - started)) s"
