#!/bin/bash
# gateway-smoke/postgres entrypoint: on first start, initdb into $PGDATA (default
# /var/lib/postgresql/data) with POSTGRES_USER (default postgres) / POSTGRES_PASSWORD and create
# POSTGRES_DB (default: the user name); then run postgres on 0.0.0.0:5432 in the foreground.
# Extra arguments go to postgres (e.g. -c max_connections=50). Runs as the postgres user (999);
# docker stop / pod deletion shut it down fast (SIGTERM is passed on as SIGINT).
set -euo pipefail

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
AUTH="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
export PGDATA

say() { echo "postgres-entrypoint: $*" >&2; }

if [[ "$(id -u)" -eq 0 ]]; then
  say "refusing to run as root: run as the postgres user (999), e.g. docker run --user 999:999"
  exit 1
fi

mkdir -p "$PGDATA" 2>/dev/null || true
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]]; then
    say "$PGDATA is not empty and holds no database; refusing to initdb over it"
    exit 1
  fi
  if [[ -z "${POSTGRES_PASSWORD:-}" && "$AUTH" != trust ]]; then
    say "POSTGRES_PASSWORD is empty (set it, or POSTGRES_HOST_AUTH_METHOD=trust)"
    exit 1
  fi
  if [[ ! -O "$PGDATA" ]]; then
    say "$PGDATA is not owned by uid $(id -u) (a volume root?); set PGDATA to a subdirectory of it"
    exit 1
  fi
  chmod 0700 "$PGDATA"
  say "initializing $PGDATA for user $POSTGRES_USER, database $POSTGRES_DB"
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$AUTH" >&2
  rm -f "$pwfile"
  {
    echo "# gateway-smoke: any address, password auth ($AUTH)"
    echo "host all all 0.0.0.0/0 $AUTH"
    echo "host all all ::/0 $AUTH"
  } >>"$PGDATA/pg_hba.conf"
  # a private socket-only server for the setup SQL
  pg_ctl --pgdata="$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/tmp" start >&2
  if [[ "$POSTGRES_DB" != postgres ]]; then
    echo 'CREATE DATABASE :"db";' | psql -v ON_ERROR_STOP=1 -h /tmp -U "$POSTGRES_USER" -d postgres \
      --set=db="$POSTGRES_DB" >&2
  fi
  pg_ctl --pgdata="$PGDATA" -w -m fast stop >&2
  say "initialized"
fi

# SIGTERM (docker stop, the kubelet) becomes SIGINT, postgres's "fast" shutdown: a throwaway
# database should not wait for its clients to disconnect ("smart" shutdown) before it stops.
postgres -c listen_addresses='*' -c port=5432 "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
rc=0
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid" && rc=0 || rc=$?
done
exit "$rc"
