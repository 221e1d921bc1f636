#!/bin/sh
# Entrypoint of the redis:7 stand-in (scripts/ci/docker-images.sh): like the official image,
# `docker run IMAGE --flag` runs `redis-server --flag`, the server runs as the `redis` user in
# /data, and protected mode is off (the container's network is the boundary; without this, a
# server started with no password refuses every client from outside the container).
set -eu

if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = redis-server ]; then
  case " $* " in
    *" --protected-mode "*) ;;
    *) set -- "$@" --protected-mode no ;;
  esac
  if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi

exec "$@"
