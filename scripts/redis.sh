#!/usr/bin/env bash
# Project-local Redis under var/: no system service, no TCP port (`port 0`), so two checkouts never collide.
# Usage: scripts/redis.sh start|stop|status
# It listens only on the Unix socket var/run/redis.sock; data and log live in var/redis. It is a
# cache: nothing is saved to disk, and past maxmemory the least recently used keys are dropped.
# With REDIS_URL set, the project uses that Redis and this script does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOCKDIR="$ROOT/var/run"          # may be a link to /tmp/gisportal-<hash>/run made by scripts/pg.sh
SOCK="$SOCKDIR/redis.sock"
DIR="$ROOT/var/redis"
CONF="$DIR/redis.conf"
PIDFILE="$DIR/redis.pid"
MAXMEMORY="${GISPORTAL_REDIS_MAXMEMORY:-256mb}"

SERVER="$(command -v redis-server || true)"
CLI="$(command -v redis-cli || true)"

ping() {
  [ -S "$SOCK" ] && [ -n "$CLI" ] && "$CLI" -s "$SOCK" ping 2>/dev/null | grep -q PONG
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && ping
}

write_conf() {
  mkdir -p "$DIR" "$SOCKDIR"
  cat >"$CONF" <<EOF
# Written by scripts/redis.sh on each start; edit the script, not this file.
port 0
unixsocket $SOCK
unixsocketperm 700
daemonize yes
pidfile $PIDFILE
dir $DIR
logfile $DIR/redis.log
loglevel notice
save ""
appendonly no
maxmemory $MAXMEMORY
maxmemory-policy allkeys-lru
databases 16
EOF
}

start() {
  if [ -n "${REDIS_URL:-}" ]; then
    echo "REDIS_URL is set: using that Redis; the local one is not started."
    return 0
  fi
  [ -x "$SERVER" ] || { echo "redis.sh: redis-server not found (run make deps)" >&2; exit 1; }
  if running; then return 0; fi
  # A stale pid file or socket left by a killed server would confuse the checks above.
  rm -f "$PIDFILE" "$SOCK"
  write_conf
  "$SERVER" "$CONF"
  for _ in $(seq 1 100); do
    if ping; then return 0; fi
    sleep 0.05
  done
  echo "redis.sh: redis-server did not answer on $SOCK; see $DIR/redis.log" >&2
  tail -n 20 "$DIR/redis.log" >&2 || true
  exit 1
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -f "$PIDFILE"
  fi
  rm -f "$SOCK"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (socket $SOCK)"; else echo "stopped"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
