#!/usr/bin/env bash
# Project-local PostGIS cluster under var/: no system service, no root-owned config.
# Usage: scripts/pg.sh start|stop|status|ensure-db NAME
# The server listens only on a Unix socket in var/run, so two checkouts never collide.
# As root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGDATA="$ROOT/var/pgdata"
SOCKDIR="$ROOT/var/run"
LOGDIR="$ROOT/var/log"
PGPORT="${GISPORTAL_PGPORT:-5432}"
SUPERUSER="gisportal"

# As root, the cluster runs as `postgres`, which must reach var/ through every parent directory.
# Where it cannot (a checkout under a private home), the cluster lives in a per-checkout folder
# under /tmp instead, and var/run links to its socket directory so clients find it as usual.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$ROOT/var"
  if ! runuser -u postgres -- test -x "$ROOT/var" 2>/dev/null; then
    ALT="/tmp/gisportal-$(printf %s "$ROOT" | sha1sum | cut -c1-12)"
    mkdir -p "$ALT"; chmod 755 "$ALT"
    PGDATA="$ALT/pgdata"; SOCKDIR="$ALT/run"; LOGDIR="$ALT/log"
    mkdir -p "$SOCKDIR"
    [ -L "$ROOT/var/run" ] || { rm -rf "$ROOT/var/run"; ln -s "$SOCKDIR" "$ROOT/var/run"; }
  fi
fi

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$PGBIN/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found under /usr/lib/postgresql (run make deps)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

psql_local() {
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PGPORT" -U "$SUPERUSER" "$@"
}

running() {
  [ -f "$PGDATA/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

init() {
  mkdir -p "$ROOT/var" "$SOCKDIR" "$LOGDIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$SOCKDIR" "$LOGDIR"
  fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$PGDATA"
    chmod 700 "$PGDATA"
    as_owner "$PGBIN/initdb" -D "$PGDATA" -U "$SUPERUSER" --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOGDIR/initdb.log"
    # A development cluster: durability traded for speed (see README).
    cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$SOCKDIR'
port = $PGPORT
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
# A 200k-parcel import writes ~0.5 GB of WAL: no checkpoint in the middle of one.
max_wal_size = 4GB
max_connections = 100
logging_collector = off
EOF
  fi
}

start() {
  init
  if running; then return 0; fi
  # A stale pid file left by a killed server would block the start.
  rm -f "$PGDATA/postmaster.pid"
  as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOGDIR/postgres.log" -w -t 60 start >/dev/null
}

stop() {
  if running; then as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
}

ensure_db() {
  local name="$1"
  if ! psql_local -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql_local -d postgres -c "CREATE DATABASE \"$name\""
  fi
  psql_local -d "$name" -c "SET client_min_messages TO warning; CREATE EXTENSION IF NOT EXISTS postgis"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (socket $SOCKDIR, port $PGPORT)"; else echo "stopped"; exit 3; fi ;;
  ensure-db) ensure_db "${2:?database name}" ;;
  *) echo "usage: $0 start|stop|status|ensure-db NAME" >&2; exit 2 ;;
esac
