#!/usr/bin/env bash
# Starts the whole assistant locally: backend, action server, Rasa, web page. Ctrl-C stops all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env
cd "$ROOT"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT
mkdir -p "$ROOT/.run"

for service in backend actions rasa web; do
  say "starting $service"
  "$ROOT/scripts/serve.sh" "$service" &
  pids+=($!)
done

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
