#!/usr/bin/env bash
# A real Docker engine for CI, so the docker backend (the one `db up` picks first whenever an
# engine answers) is tested on one rather than up to the engine only.
#   scripts/ci/docker-engine.sh install  Debian's docker.io (dockerd 20.10) and debootstrap when
#                                        missing, and the compose v2 plugin from Debian trixie
#                                        (bookworm has only compose v1, the Python one)
#   scripts/ci/docker-engine.sh start    start dockerd when no engine answers `docker info`
#   scripts/ci/docker-engine.sh stop     stop the dockerd that `start` started, and only that one
# No systemd on these machines: dockerd runs in the background and we wait for `docker info`,
# never for time. The default socket (or DOCKER_HOST), so the CLI finds it as a user's would.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Where `start` notes that it started dockerd; `stop` touches nothing else.
state=${KATA_DOCKERD_STATE:-/run/kata-ci-dockerd}
# The client (/usr/local/bin/docker may be a newer static one) looks for plugins here too.
plugins=/usr/local/lib/docker/cli-plugins

say() { echo "docker-engine: $*"; }

install() {
  local need=()
  [ -x /usr/sbin/dockerd ] || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  if ((${#need[@]})); then
    say "apt-get install ${need[*]}"
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    # The package's own service start is skipped (no systemd; policy-rc.d may forbid it): `start`
    # below starts the engine with the flags these machines need.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends "${need[@]}" >/dev/null
  fi
  if ! docker compose version >/dev/null 2>&1; then
    say "compose v2 plugin from Debian trixie's docker-compose package"
    local prefix=/opt/kata-trixie-compose
    bash scripts/ci/trixie.sh "$prefix" docker-compose >/dev/null
    mkdir -p "$plugins"
    ln -sf "$prefix/usr/libexec/docker/cli-plugins/docker-compose" "$plugins/docker-compose"
  fi
  say "$(docker --version), $(docker compose version)"
}

start() {
  if docker info >/dev/null 2>&1; then
    say "an engine already answers ($(docker info --format '{{.ServerVersion}}')): using it"
    return
  fi
  mkdir -p "$state"
  # Where the client looks: DOCKER_HOST when it names a Unix socket, else the default socket.
  local host=unix:///var/run/docker.sock
  case "${DOCKER_HOST:-}" in
    unix://*) host=$DOCKER_HOST ;;
    "") ;;
    *) say "DOCKER_HOST=$DOCKER_HOST answers nothing, and only a local Unix socket can be started" >&2; exit 1 ;;
  esac
  # overlay2 with the default bridge and iptables: published 127.0.0.1 ports work, and it is
  # faster than vfs (FIELD-NOTES, "Docker on these machines").
  dockerd --storage-driver=overlay2 -H "$host" --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$state/started"
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      # The client negotiates the API version down to the engine's (28.x client, 20.10 engine).
      say "dockerd $(docker info --format '{{.ServerVersion}}') started (pid $pid)"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  say "dockerd did not answer \`docker info\`; its log:" >&2
  tail -n 30 "$state/dockerd.log" >&2
  stop
  exit 1
}

stop() {
  [ -f "$state/started" ] || return 0
  local pid
  pid=$(cat "$state/started")
  rm -f "$state/started"
  kill -TERM "$pid" 2>/dev/null || return 0
  # dockerd stops its containers and its containerd before it exits.
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { say "dockerd (pid $pid) stopped"; return; }
    sleep 0.5
  done
  say "dockerd (pid $pid) did not stop within 30 s" >&2
}

case "${1:-}" in
  install | start | stop) "$1" ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
