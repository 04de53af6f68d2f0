#!/usr/bin/env bash
# Regenerates the initial Alembic migration from the models. Only while no database has been
# deployed: once one has, add migrations with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/../api"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_initial_schema.py
DATABASE_URL="sqlite:///$tmp/gen.db" ../.venv-api/bin/alembic revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null
../.venv-api/bin/ruff format -q migrations/versions/0001_initial_schema.py 2>/dev/null || true
echo "regenerated api/migrations/versions/0001_initial_schema.py"
