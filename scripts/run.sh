#!/usr/bin/env bash
# Starts the whole assistant locally: backend, action server, Rasa, web page. Ctrl-C stops all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env
cd "$ROOT"
model=$(ls -t "$MODELS_DIR"/ge-*.tar.gz 2>/dev/null | head -n 1) || true
[[ -n "$model" ]] || die "no trained model in $MODELS_DIR: run scripts/setup.sh"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT
mkdir -p "$ROOT/.run"

say "starting the backend on :$BACKEND_PORT"
(cd api && exec "$API_VENV/bin/uvicorn" app.main:app --host 127.0.0.1 --port "$BACKEND_PORT") &
pids+=($!)
say "starting the action server on :$ACTIONS_PORT"
PYTHONPATH="$ROOT" "$BOT_VENV/bin/python" -m rasa_sdk --actions actions --port "$ACTIONS_PORT" &
pids+=($!)
say "starting Rasa on :$RASA_PORT with $(basename "$model")"
PYTHONPATH="$ROOT" "$BOT_VENV/bin/rasa" run --model "$model" --port "$RASA_PORT" --enable-api \
  --interface 127.0.0.1 --cors "*" --credentials bot/credentials.yml --endpoints bot/endpoints.yml &
pids+=($!)
say "serving the web page on :$WEB_PORT"
"$API_VENV/bin/python" -m http.server "$WEB_PORT" --bind 127.0.0.1 --directory web >/dev/null 2>&1 &
pids+=($!)

wait_http "http://127.0.0.1:$BACKEND_PORT/health" 60 backend
wait_http "http://127.0.0.1:$ACTIONS_PORT/health" 60 "action server"
wait_http "http://127.0.0.1:$RASA_PORT/status" 180 Rasa
cat <<EOM

  Web page and chat      http://localhost:$WEB_PORT/
  Backend API (OpenAPI)  http://localhost:$BACKEND_PORT/docs
  Rasa (REST channel)    http://localhost:$RASA_PORT/webhooks/rest/webhook
  Action server          http://localhost:$ACTIONS_PORT/health

  Ctrl-C stops everything.
EOM
# If any process dies, stop the others and report it.
wait -n "${pids[@]}" || true
die "a service stopped; see the log above"
