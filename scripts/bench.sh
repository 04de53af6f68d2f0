#!/usr/bin/env bash
# `make bench`: the figures of the README, on this machine (run it when nothing else is running).
#   1. the bot: bench/rasa_bench.py, our config against Rasa's default pipeline and policies
#      (trained for BENCH_DEFAULT_EPOCHS epochs, 1 by default: 100 take hours on 2 cores);
#   2. the backend: bench/bench_api.py against a backend of BENCH_API_WORKERS uvicorn workers (4)
#      started here on a throwaway SQLite database, then on the private PostgreSQL of the tests.
# BENCH_ONLY=bot|api runs one of the two. Each bench prints its table; the bot's figures are also
# written to bench/results/rasa_bench.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
only="${BENCH_ONLY:-}"

if [[ -z "$only" || "$only" == bot ]]; then
  say "bot: bench/rasa_bench.py (ours, then Rasa's default pipeline at ${BENCH_DEFAULT_EPOCHS:-1} epoch(s))"
  "$BOT_VENV/bin/python" bench/rasa_bench.py --default-epochs "${BENCH_DEFAULT_EPOCHS:-1}"
fi

[[ -z "$only" || "$only" == api ]] || exit 0

work=$(mktemp -d)
backend_pid=""
stop_backend() {
  if [[ -n "$backend_pid" ]]; then
    kill "$backend_pid" 2>/dev/null || true
    wait "$backend_pid" 2>/dev/null || true
    backend_pid=""
  fi
}
pg_started=""
cleanup() {
  stop_backend
  [[ -n "$pg_started" ]] && "$ROOT/scripts/pg.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# One backend on a free port, migrated and seeded, ready before the bench starts.
bench_backend() {
  local label="$1" url="$2" port
  port=$("$API_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  say "backend on $label: ${BENCH_API_WORKERS:-4} workers, port $port"
  (cd api && DATABASE_URL="$url" NOTIFIER_ENABLED=false "$API_VENV/bin/python" -m app.cli setup >"$work/setup.log" 2>&1) \
    || die "backend setup on $label failed: $(tail -n 5 "$work/setup.log")"
  (cd api && exec env DATABASE_URL="$url" NOTIFIER_ENABLED=false "$API_VENV/bin/uvicorn" app.main:app \
    --host 127.0.0.1 --port "$port" --workers "${BENCH_API_WORKERS:-4}" --log-level warning) >"$work/backend.log" 2>&1 &
  backend_pid=$!
  wait_http "http://127.0.0.1:$port/health" 120 "the backend on $label"
  "$API_VENV/bin/python" bench/bench_api.py --base-url "http://127.0.0.1:$port" --token "$SERVICE_TOKEN"
  stop_backend
}

bench_backend SQLite "sqlite:///$work/bench.db"
"$ROOT/scripts/pg.sh" start >/dev/null || die "could not start PostgreSQL"
pg_started=1
bench_url=$("$ROOT/scripts/pg.sh" fresh ge_bench | tail -n 1) || die "could not empty the bench database"
bench_backend PostgreSQL "$bench_url"
