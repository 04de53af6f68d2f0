#!/usr/bin/env bash
# Trains the Rasa model only when what it is made of changed (keyed on a hash of the content of
# the config, domain, training data, custom components and the normaliser they use).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env
hash=$(content_hash bot/config.yml bot/domain bot/components bot/policies.py common/ge_text data/nlu data/stories data/rules data/reference/places.yaml data/reference/program_aliases.yaml data/reference/programmes.yaml)
model="$MODELS_DIR/ge-$hash.tar.gz"
if [[ -f "$model" ]]; then
  say "model up to date: $(realpath --relative-to="$ROOT" "$model")"
  exit 0
fi
say "training the Rasa model (inputs changed: $hash)"
mkdir -p "$MODELS_DIR"
cd "$ROOT"
PYTHONPATH="$ROOT" "$BOT_VENV/bin/rasa" train --config bot/config.yml --domain bot/domain \
  --data data/nlu data/stories data/rules --out "$MODELS_DIR/.partial" --fixed-model-name "ge-$hash" \
  >"$MODELS_DIR/train.log" 2>&1 || { tail -n 40 "$MODELS_DIR/train.log"; die "training failed (log: $MODELS_DIR/train.log)"; }
# Rename only once complete, so a half-written model is never served.
mv "$MODELS_DIR/.partial/ge-$hash.tar.gz" "$model"
rm -rf "$MODELS_DIR/.partial"
find "$MODELS_DIR" -name 'ge-*.tar.gz' ! -name "ge-$hash.tar.gz" -delete
say "model trained: $(realpath --relative-to="$ROOT" "$model")"
