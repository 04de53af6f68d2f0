"""The trained model keeps its accuracy on the held-out set (tests/nlu/heldout), per variety.

A regression guard: the floors sit just under what bench/nlu_eval.py measured when the pipeline
and data were last changed (docs in that script). The model is the newest one in $MODELS_DIR
(scripts/train.sh keeps it in step with the config, data and components), or one trained here.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VARIETIES = ("fr", "ar", "ary", "ary_latn")

# Per variety: intent accuracy, macro-F1, out_of_scope recall, language-ID accuracy (where an
# entity was emitted) and coverage, city and program precision and recall. Each comment gives
# the figures measured in that order.
# Latin-script language coverage is lower on purpose: a bare answer of three words or fewer
# (a name, a city, a time), and a one- or two-word message the classifier is not sure of, set no
# language, so "Salma Benali" never switches a French conversation to Darija
# (bot/components/language.py); measured 0.886 (fr), over 0.89 (ary_latn).
FLOORS: dict[str, dict[str, float]] = {
    # measured 2026-11-28, 11,129 training examples: 96.9 / 96.9 / 100 / 98.7 / 89.0 / 97.4 / 100 / 100 / 100
    "fr": {"intent_accuracy": 0.96, "intent_macro_f1": 0.96, "oos_recall": 0.98, "language_accuracy": 0.98,
           "language_coverage": 0.87, "city_precision": 0.97, "city_recall": 0.99, "program_precision": 0.99,
           "program_recall": 0.99},
    # measured: 96.5 / 96.7 / 96.7 / 97.6 / 98.0 / 100 / 100 / 97.8 / 97.8
    "ar": {"intent_accuracy": 0.96, "intent_macro_f1": 0.96, "oos_recall": 0.96, "language_accuracy": 0.96,
           "language_coverage": 0.97, "city_precision": 0.99, "city_recall": 0.99, "program_precision": 0.97,
           "program_recall": 0.97},
    # measured: 96.3 / 96.4 / 96.7 / 94.05 / 97.4 / 100 / 100 / 100 / 88.6
    "ary": {"intent_accuracy": 0.955, "intent_macro_f1": 0.955, "oos_recall": 0.96, "language_accuracy": 0.94,
            "language_coverage": 0.97, "city_precision": 0.99, "city_recall": 0.99, "program_precision": 0.99,
            "program_recall": 0.88},
    # measured: 94.0 / 94.2 / 96.7 / 99.8 / 89.2 / 97.4 / 97.4 / 100 / 100 (under the 0.95 goal)
    "ary_latn": {"intent_accuracy": 0.935, "intent_macro_f1": 0.935, "oos_recall": 0.96, "language_accuracy": 0.98,
                 "language_coverage": 0.89, "city_precision": 0.97, "city_recall": 0.97, "program_precision": 0.99,
                 "program_recall": 0.99},
}


def _nlu_eval() -> Any:
    spec = importlib.util.spec_from_file_location("nlu_eval", ROOT / "bench" / "nlu_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory, newest_model: Path | None) -> dict[str, Any]:
    nlu_eval = _nlu_eval()
    if newest_model is not None:
        model = newest_model
    else:
        workdir = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
        model, _ = nlu_eval.train_model(ROOT / "bot" / "config.yml", workdir)
    return nlu_eval.evaluate(model)


@pytest.mark.parametrize("variety", VARIETIES)
def test_every_variety_keeps_its_figures(figures: dict[str, Any], variety: str) -> None:
    measured = figures["varieties"][variety]
    below = {name: (measured[name], floor) for name, floor in FLOORS[variety].items()
             if measured[name] is None or measured[name] < floor}
    assert not below, f"{variety}: figures under their floor (measured, floor): {below}"


def test_in_scope_messages_rarely_fall_back(figures: dict[str, Any]) -> None:
    # measured: at most 0.8% (ar)
    for variety in VARIETIES:
        assert figures["varieties"][variety]["in_scope_fallback_rate"] <= 0.015, variety
