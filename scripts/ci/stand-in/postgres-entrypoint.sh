#!/bin/sh
# Entrypoint of the postgres:18 stand-in (scripts/ci/docker-images.sh): the documented interface
# of the official image, written here from its documentation, for engines with no registry.
#   - `docker run IMAGE -c name=value` runs `postgres -c name=value` (flags go to the server);
#   - started as root, it prepares PGDATA and runs the server as the `postgres` user;
#   - on first start (no PGDATA/PG_VERSION) it runs initdb with POSTGRES_USER (default postgres) as
#     superuser and POSTGRES_PASSWORD as its password, then creates POSTGRES_DB (default: the
#     user's name). Later starts never touch users or passwords: the password of the first start
#     stays, as in the official image;
#   - it listens on all addresses in the container, with scram-sha-256 over TCP and trust on the
#     Unix socket in /var/run/postgresql, and initialises with a socket-only server so a TCP
#     health check sees the server only once it is really up.
# Not provided: /docker-entrypoint-initdb.d scripts, POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD,
# *_FILE secrets, arbitrary --user.
set -eu

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown -R postgres:postgres /var/lib/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "Error: database is uninitialized and superuser password is not specified: set POSTGRES_PASSWORD" >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # The embedded binaries' initdb puts the socket in /tmp; the official image keeps it in
  # /var/run/postgresql, where its psql and pg_isready look. The last setting wins.
  printf "listen_addresses = '*'\nunix_socket_directories = '/var/run/postgresql'\n" >>"$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  if [ "$db" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$user" -d postgres --set db="$db" <<'SQL'
CREATE DATABASE :"db";
SQL
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
