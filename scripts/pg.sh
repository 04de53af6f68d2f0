#!/usr/bin/env bash
# A private PostgreSQL server for the tests: `scripts/pg.sh start` prints nothing but the URL
# on its last line; `scripts/pg.sh fresh NAME` empties (or creates) a database on it and prints
# its URL; `scripts/pg.sh stop` ends it. Data lives in .run/pg (throwaway).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# As root the server runs as the postgres user, who may not be allowed into the checkout (e.g. a
# clone under /root): keep the throwaway cluster under /tmp then, one per checkout.
if [[ $(id -u) -eq 0 ]]; then
  dir="/tmp/ge-pgtest-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
else
  dir="$root/.run/pg"
fi
port="${PGTEST_PORT:-55432}"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$bindir" ]]; then
  echo "PostgreSQL server binaries not found: run scripts/system_deps.sh (apt-get install postgresql)" >&2
  exit 1
fi
# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    fi
    for db in ge_test ge_e2e; do
      as_pg "$bindir/psql" -h "$dir" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
        || as_pg "$bindir/createdb" -h "$dir" -p "$port" -U postgres "$db"
    done
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/ge_test"
    ;;
  fresh)
    # An empty database of that name (dropped first if it exists), on the started server; its URL.
    db="${2:?usage: $0 fresh DATABASE}"
    as_pg "$bindir/dropdb" -h "$dir" -p "$port" -U postgres --if-exists --force "$db"
    as_pg "$bindir/createdb" -h "$dir" -p "$port" -U postgres "$db"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/$db"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|fresh DATABASE|stop" >&2; exit 2 ;;
esac
