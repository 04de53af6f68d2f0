#!/usr/bin/env bash
# First-use setup, idempotent: environments, dependencies, database, trained model.
# Usage: scripts/setup.sh [--dev]   (--dev also installs the test dependencies)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env
suffix=""; [[ "${1:-}" == "--dev" ]] && suffix="-dev"

ensure_venv "$API_VENV" "$(find_python311)" "$ROOT/api/requirements$suffix.txt"
ensure_venv "$BOT_VENV" "$(find_python310)" "$ROOT/bot/requirements$suffix.txt"

mkdir -p "$ROOT/var"
say "migrating and seeding the database"
(cd "$ROOT/api" && "$API_VENV/bin/python" -m app.cli setup)

"$ROOT/scripts/train.sh"
