# Shared helpers for the setup, run and test scripts (sourced, not executed).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
API_VENV="$ROOT/.venv-api"
BOT_VENV="$ROOT/.venv-bot"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# Settings: the environment first, then .env for what the environment leaves unset, then safe
# development defaults (so a test's own DATABASE_URL is never overridden by a developer's .env).
load_env() {
  if [[ -f "$ROOT/.env" ]]; then
    local line key
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
      key="${BASH_REMATCH[1]}"
      [[ -z "${!key+x}" ]] && export "$key=$(eval "printf '%s' ${BASH_REMATCH[2]}")"
    done <"$ROOT/.env"
  fi
  export BACKEND_PORT="${BACKEND_PORT:-8000}" ACTIONS_PORT="${ACTIONS_PORT:-5055}"
  export RASA_PORT="${RASA_PORT:-5005}" WEB_PORT="${WEB_PORT:-8080}"
  export SERVICE_TOKEN="${SERVICE_TOKEN:-dev-service-token}"
  export BACKEND_URL="${BACKEND_URL:-http://127.0.0.1:$BACKEND_PORT}"
  export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"
  export MODELS_DIR="${MODELS_DIR:-$ROOT/models}"
  # Rasa would otherwise try to report telemetry and errors to outside services.
  export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
}

# Rasa 3.6 needs Python 3.10 exactly: python3.10 on PATH, or pyenv's 3.10.x.
find_python310() {
  local candidate
  # A pyenv shim is on PATH even when 3.10 is not the active version, and then fails when
  # run: so a candidate counts only if it really starts and is 3.10.
  for candidate in "${PYTHON310:-}" python3.10; do
    [[ -z "$candidate" ]] && continue
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local version
    version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -V | tail -n 1)
    [[ -n "$version" ]] && { echo "$(pyenv root)/versions/$version/bin/python3.10"; return; }
  fi
  die "Python 3.10 not found (Rasa 3.6 needs it). Install it (e.g. 'pyenv install 3.10.13', or your
  distribution's python3.10 with venv) or set PYTHON310=/path/to/python3.10; or use 'docker compose up'."
}

# The backend wants Python 3.11 or newer.
find_python311() {
  local candidate
  for candidate in "${PYTHON311:-}" python3.13 python3.12 python3.11 python3; do
    [[ -z "$candidate" ]] && continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  die "Python 3.11 or newer not found for the backend (set PYTHON311=/path/to/python3.11)."
}

# A hash of the given files' content (paths sorted, so order and mtimes do not matter).
content_hash() {
  local existing=() path
  for path in "$@"; do [[ -e "$ROOT/$path" ]] && existing+=("$path"); done
  (cd "$ROOT" && find "${existing[@]}" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# Create a venv and install requirements, again only when the requirements changed.
ensure_venv() {
  local venv="$1" python="$2" requirements="$3"
  local stamp="$venv/.requirements.sha" wanted
  wanted=$(cat "$requirements" "$(dirname "$requirements")"/requirements.txt "$ROOT/common/pyproject.toml" | sha256sum | cut -c1-16)
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating $(basename "$venv") with $python"
    "$python" -m venv "$venv"
  fi
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    say "installing $(realpath --relative-to="$ROOT" "$requirements") into $(basename "$venv")"
    "$venv/bin/python" -m pip install -q --upgrade pip
    (cd "$(dirname "$requirements")" && "$venv/bin/python" -m pip install -q -r "$(basename "$requirements")")
    echo "$wanted" >"$stamp"
  fi
}

# Wait until a URL answers 2xx (or the timeout passes): readiness, never a blind sleep.
wait_http() {
  local url="$1" timeout="${2:-120}" name="${3:-$1}" start=$SECONDS
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    (( SECONDS - start > timeout )) && die "$name did not become ready at $url within ${timeout}s"
    sleep 0.5
  done
}
