#!/usr/bin/env bash
# The command of each service, shared by `make run`, the end-to-end tests and the Docker images,
# so all three run the same thing. Usage: scripts/serve.sh backend|actions|rasa|web
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
host="${BIND_HOST:-127.0.0.1}"

case "${1:-}" in
  backend)
    # Migrations and reference data are idempotent: applying them at start keeps a deployed
    # backend's schema and catalogue in step with its code.
    (cd api && "$API_VENV/bin/python" -m app.cli setup)
    cd api
    exec "$API_VENV/bin/uvicorn" app.main:app --host "$host" --port "$BACKEND_PORT" \
      --workers "${BACKEND_WORKERS:-1}" --proxy-headers
    ;;
  actions)
    # actions.server: rasa-sdk, holding the domain Rasa no longer sends (actions/domain.py).
    exec "$BOT_VENV/bin/python" -m actions.server --actions actions --port "$ACTIONS_PORT"
    ;;
  rasa)
    model="${RASA_MODEL:-$(ls -t "$MODELS_DIR"/ge-*.tar.gz 2>/dev/null | head -n 1)}"
    [[ -n "$model" ]] || die "no trained model in $MODELS_DIR: run scripts/train.sh"
    args=(run --model "$model" --port "$RASA_PORT" --interface "$host" --cors "*"
          --credentials bot/credentials.yml --endpoints "${RASA_ENDPOINTS:-bot/endpoints.yml}")
    # The HTTP API (conversation control, model replacement) only with a token, or on loopback.
    if [[ -n "${RASA_TOKEN:-}" ]]; then args+=(--enable-api --auth-token "$RASA_TOKEN")
    elif [[ "$host" == 127.0.0.1 ]]; then args+=(--enable-api); fi
    # bot.launcher: the rasa command with speed fixes to Rasa 3.6 (see the module).
    exec "$BOT_VENV/bin/python" -m bot.launcher "${args[@]}"
    ;;
  web)
    exec "$API_VENV/bin/python" -m http.server "$WEB_PORT" --bind "$host" --directory web
    ;;
  *) die "usage: $0 backend|actions|rasa|web" ;;
esac
