#!/usr/bin/env bash
# Sets up what the tests need (Debian packages, environments, a private PostgreSQL, the trained
# model) and runs every suite. Exits non-zero if any suite fails or collects no test.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
load_env
cd "$ROOT"

"$ROOT/scripts/system_deps.sh" || die "could not install the system packages the tests need"
"$ROOT/scripts/setup.sh" --dev || die "setup failed"
pg_url=$("$ROOT/scripts/pg.sh" start | tail -n 1) || die "could not start PostgreSQL for the tests"
trap '"$ROOT/scripts/pg.sh" stop' EXIT
# The end-to-end database starts empty every run.
e2e_url=$("$ROOT/scripts/pg.sh" fresh ge_e2e | tail -n 1) || die "could not empty the end-to-end database"

model=$(ls -t "$MODELS_DIR"/ge-*.tar.gz | head -n 1)
export PYTHONPATH="$ROOT"
mkdir -p "$ROOT/test-artifacts"
results=()
failed=0

# Runs one suite; pytest's exit code 5 (no test collected) counts as a failure.
suite() {
  local name="$1"; shift
  say "suite: $name"
  "$@"
  local rc=$?
  if [[ $rc -eq 0 ]]; then results+=("PASS  $name")
  else
    [[ $rc -eq 5 ]] && name="$name (no test collected)"
    results+=("FAIL  $name (exit $rc)"); failed=1
  fi
}

suite "lint (ruff)" "$API_VENV/bin/ruff" check api common actions bot tests bench scripts
suite "backend on SQLite" bash -c "cd api && ../.venv-api/bin/python -m pytest ../tests/api -q"
suite "backend on PostgreSQL" bash -c "cd api && TEST_DATABASE_URL='$pg_url' ../.venv-api/bin/python -m pytest ../tests/api -q"
suite "text normalisation" "$BOT_VENV/bin/python" -m pytest tests/common -q
suite "actions" "$BOT_VENV/bin/python" -m pytest tests/actions -q
suite "bot data validation" "$BOT_VENV/bin/rasa" data validate --domain bot/domain \
  --data data/nlu data/stories data/rules --config bot/config.yml
suite "bot unit and NLU quality" "$BOT_VENV/bin/python" -m pytest tests/bot -q
# Through bot.launcher, as Rasa is served: the stories test its fixes to Rasa too.
suite "bot test stories" "$BOT_VENV/bin/python" -m bot.launcher test core --stories tests/bot/stories \
  --model "$model" --endpoints bot/endpoints.yml --out "$ROOT/test-artifacts/stories" --fail-on-prediction-errors
suite "end-to-end and browser" env E2E_DATABASE_URL="$e2e_url" "$API_VENV/bin/python" -m pytest tests/e2e -q

echo
say "summary"
printf '  %s\n' "${results[@]}"
exit $failed
