"""Accuracy of the NLU on the held-out set, per variety, through the trained Rasa model.

    PYTHONPATH=. .venv-bot/bin/python bench/nlu_eval.py                 # train, then evaluate
    PYTHONPATH=. .venv-bot/bin/python bench/nlu_eval.py --model M.tar.gz
    PYTHONPATH=. .venv-bot/bin/python bench/nlu_eval.py --tune-threshold  # FallbackClassifier

Every example of tests/nlu/heldout/{fr,ar,ary,ary_latn}.yml is parsed by the model in process
(rasa Agent) and the figures are printed per variety and written as JSON (default
bench/results/nlu_eval.json):

- intent accuracy and macro-F1 over the intents of the held-out set; `nlu_fallback` counts as
  `out_of_scope` (both get the same answer: "I can't help with that");
- out_of_scope recall; the share of in-scope messages lost to the fallback;
- language identification (the `language` entity; `choose_language` examples are left out since
  their language is the one asked for): accuracy where an entity was emitted, the share of
  messages that got one, and strict accuracy (no entity counts as wrong);
- city and program entities: precision and recall of (type, canonical value) at overlapping
  spans; the canonical value of an annotation is the one its surface resolves to in the project's
  reference data (an explicit `value` that is a canonical id wins).

Only aggregate figures are printed, never the examples: the held-out set must not leak into the
training data. `--tune-threshold` never reads it: it trains on 80% of data/nlu (stratified by
intent and variety, several seeds) and picks the FallbackClassifier threshold that maximises
accuracy (fallback counted as out_of_scope) on the other 20%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VARIETIES = ("fr", "ar", "ary", "ary_latn")
HELDOUT = ROOT / "tests" / "nlu" / "heldout"
RESULTS = ROOT / "bench" / "results"
OOS = "out_of_scope"
FALLBACK = "nlu_fallback"
RASA = str(Path(sys.executable).with_name("rasa"))


def quiet_env() -> dict[str, str]:
    """One thread per library: the machine is shared, and our models do not need more."""
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def train_model(config: Path, out_dir: Path, *, name: str = "nlu-eval", nlu_only: bool = False,
                data: list[Path] | None = None) -> tuple[Path, float]:
    """Train with the Rasa CLI (a clean process, as in production); returns the model and seconds."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if nlu_only:
        cmd = [RASA, "train", "nlu", "--config", str(config), "--nlu", *(str(d) for d in data or [ROOT / "data/nlu"])]
    else:
        cmd = [RASA, "train", "--config", str(config), "--domain", str(ROOT / "bot/domain"), "--data",
               *(str(d) for d in data or [ROOT / "data/nlu", ROOT / "data/stories", ROOT / "data/rules"])]
    cmd += ["--out", str(out_dir), "--fixed-model-name", name]
    if not nlu_only:
        cmd.append("--force")  # `rasa train nlu` has no such option
    started = time.perf_counter()
    log = out_dir / f"{name}.train.log"
    with log.open("w") as handle:
        result = subprocess.run(cmd, cwd=ROOT, env=quiet_env(), stdout=handle, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"training failed ({log}):\n" + "\n".join(log.read_text().splitlines()[-30:]))
    return out_dir / f"{name}.tar.gz", seconds


def load_examples(path: Path) -> list[dict[str, Any]]:
    """Examples of a Rasa NLU YAML file: text, intent, entities (offsets on the text)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        {"text": m.get("text"), "intent": m.get("intent"), "entities": m.get("entities") or []}
        for m in data.intent_examples
        if m.get("text")
    ]


class Canonical:
    """The canonical value of an annotated surface, from the project's reference data."""

    def __init__(self) -> None:
        from bot.components.gazetteer import EntityMatcher

        self.matcher = EntityMatcher.from_files(ROOT / "data/reference/places.yaml",
                                                ROOT / "data/reference/program_aliases.yaml")
        self.ids: dict[str, set[str]] = {
            "city": {p[1] for p in self.matcher.tables["city"]["major"] + self.matcher.tables["city"]["minor"]},
            "program": {p[1] for p in self.matcher.tables["program"]["aliases"]},
        }

    def value(self, entity: dict[str, Any], surface: str) -> str | None:
        from ge_text import normalize

        kind = entity["entity"]
        explicit = entity.get("value")
        if explicit and explicit != surface and explicit in self.ids.get(kind, set()):
            return str(explicit)
        found = [m for k, m in self.matcher.entities(normalize(surface)) if k == kind]
        if not found and kind == "city":
            # The annotation alone lacks the context a common-word place needs ("safi").
            found = self.matcher.places(normalize(surface), require_context=False)
        return found[0].value if len(found) == 1 else None


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(_f1(precision, recall))
    return sum(scores) / len(scores) if scores else 0.0


def silence_rasa() -> None:
    """Rasa logs every parsed message at debug level: never print held-out texts."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)


async def parse_all(model: Path, texts: list[str]) -> tuple[list[dict[str, Any]], list[float]]:
    from rasa.core.agent import Agent

    silence_rasa()

    agent = Agent.load(str(model))
    parsed, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        parsed.append(await agent.parse_message(text))
        latencies.append(time.perf_counter() - started)
    return parsed, latencies


def score_variety(examples: list[dict[str, Any]], parsed: list[dict[str, Any]], canonical: Canonical) -> dict[str, Any]:
    gold = [e["intent"] for e in examples]
    raw = [(p.get("intent") or {}).get("name") or FALLBACK for p in parsed]
    pred = [OOS if r == FALLBACK else r for r in raw]
    n = len(gold)
    in_scope = [i for i, g in enumerate(gold) if g != OOS]
    oos = [i for i, g in enumerate(gold) if g == OOS]
    figures: dict[str, Any] = {
        "examples": n,
        "intent_accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / n,
        "intent_macro_f1": macro_f1(gold, pred),
        "oos_recall": (sum(pred[i] == OOS for i in oos) / len(oos)) if oos else None,
        "oos_examples": len(oos),
        "in_scope_fallback_rate": (sum(raw[i] == FALLBACK for i in in_scope) / len(in_scope)) if in_scope else None,
        "confusions": Counter(f"{g} -> {p}" for g, p in zip(gold, pred, strict=True) if g != p).most_common(12),
    }
    # Language identification
    expected_language = examples[0]["variety"] if examples else None
    emitted = correct = considered = 0
    for example, p in zip(examples, parsed, strict=True):
        if example["intent"] == "choose_language":
            continue
        considered += 1
        languages = [e["value"] for e in p.get("entities", []) if e.get("entity") == "language"]
        if languages:
            emitted += 1
            correct += languages[-1] == expected_language
    figures["language_accuracy"] = correct / emitted if emitted else None
    figures["language_coverage"] = emitted / considered if considered else None
    figures["language_strict_accuracy"] = correct / considered if considered else None
    # Entities
    for kind in ("city", "program"):
        tp = fp = fn = 0
        for example, p in zip(examples, parsed, strict=True):
            gold_entities = []
            for e in example["entities"]:
                if e["entity"] == kind:
                    surface = example["text"][e["start"] : e["end"]]
                    gold_entities.append((e["start"], e["end"], canonical.value(e, surface)))
            predicted = [(e["start"], e["end"], e["value"]) for e in p.get("entities", []) if e.get("entity") == kind]
            matched_gold = set()
            for start, end, value in predicted:
                hit = next((i for i, (gs, ge, gv) in enumerate(gold_entities)
                            if i not in matched_gold and gs < end and start < ge and gv == value), None)
                if hit is None:
                    fp += 1
                else:
                    tp += 1
                    matched_gold.add(hit)
            fn += len(gold_entities) - len(matched_gold)
        figures[f"{kind}_precision"] = tp / (tp + fp) if tp + fp else None
        figures[f"{kind}_recall"] = tp / (tp + fn) if tp + fn else None
        figures[f"{kind}_gold"] = tp + fn
    return figures


def evaluate(model: Path, heldout: Path = HELDOUT) -> dict[str, Any]:
    canonical = Canonical()
    per_variety: dict[str, Any] = {}
    all_latencies: list[float] = []
    for variety in VARIETIES:
        path = heldout / f"{variety}.yml"
        if not path.exists():
            continue
        examples = load_examples(path)
        for e in examples:
            e["variety"] = variety
        parsed, latencies = asyncio.run(parse_all(model, [e["text"] for e in examples]))
        all_latencies += latencies
        per_variety[variety] = score_variety(examples, parsed, canonical)
    figures = {"model": str(model), "varieties": per_variety}
    if all_latencies:
        ordered = sorted(all_latencies)
        figures["parse_ms_p50"] = 1000 * ordered[len(ordered) // 2]
        figures["parse_ms_p95"] = 1000 * ordered[int(len(ordered) * 0.95)]
    return figures


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:6.2f}"


def print_table(figures: dict[str, Any]) -> None:
    rows = [
        ("intent accuracy", "intent_accuracy"),
        ("intent macro-F1", "intent_macro_f1"),
        ("out_of_scope recall", "oos_recall"),
        ("in-scope fallback rate", "in_scope_fallback_rate"),
        ("language-ID accuracy", "language_accuracy"),
        ("language-ID coverage", "language_coverage"),
        ("language-ID strict acc.", "language_strict_accuracy"),
        ("city precision", "city_precision"),
        ("city recall", "city_recall"),
        ("program precision", "program_precision"),
        ("program recall", "program_recall"),
    ]
    varieties = list(figures["varieties"])
    print(f"{'(%)':26}" + "".join(f"{v:>10}" for v in varieties))
    print(f"{'examples':26}" + "".join(f"{figures['varieties'][v]['examples']:>10}" for v in varieties))
    for label, key in rows:
        print(f"{label:26}" + "".join(f"{_pct(figures['varieties'][v][key]):>10}" for v in varieties))
    if "parse_ms_p50" in figures:
        print(f"parse latency in process: p50 {figures['parse_ms_p50']:.2f} ms, p95 {figures['parse_ms_p95']:.2f} ms")
    for variety in varieties:
        confusions = ", ".join(f"{pair} ({n})" for pair, n in figures["varieties"][variety]["confusions"][:6])
        print(f"top confusions {variety}: {confusions}")


# Threshold tuning on a split of the training data ---------------------------------------------


def _split_training_data(seed: int, work: Path, fraction: float = 0.2) -> list[dict[str, Any]]:
    """Write 1 - fraction of data/nlu to work/<variety>/ and return the rest."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    rng = random.Random(seed)
    test: list[dict[str, Any]] = []
    for variety in VARIETIES:
        from rasa.shared.nlu.training_data.loading import load_data

        data = load_data(str(ROOT / "data/nlu" / variety))
        by_intent: dict[str, list[Any]] = defaultdict(list)
        for m in data.intent_examples:
            by_intent[m.get("intent")].append(m)
        train_messages = []
        for intent in sorted(by_intent):
            messages = by_intent[intent]
            rng.shuffle(messages)
            k = max(1, round(len(messages) * fraction))
            test += [{"text": m.get("text"), "intent": intent, "variety": variety} for m in messages[:k]]
            train_messages += messages[k:]
        (work / variety).mkdir(parents=True, exist_ok=True)
        (work / variety / "nlu.yml").write_text(TrainingData(train_messages).nlu_as_yaml(), encoding="utf-8")
    return test


def tune_threshold(seeds: tuple[int, ...] = (1, 2, 3)) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "bot/config.yml").read_text())
    pipeline = []
    for component in config["pipeline"]:
        if component["name"] == "FallbackClassifier":
            continue  # raw confidences
        if component["name"].endswith("LanguageDetector"):
            continue  # not needed for intents
        pipeline.append(component)
    config["pipeline"] = pipeline
    results: list[tuple[str, str, float, str, float]] = []  # gold, top, conf, second, conf2
    with tempfile.TemporaryDirectory(prefix="nlu-tune-") as tmp:
        tmp_path = Path(tmp)
        config_path = tmp_path / "config.yml"
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True))
        for seed in seeds:
            work = tmp_path / f"split{seed}"
            test = _split_training_data(seed, work / "data")
            model, seconds = train_model(config_path, work / "models", name=f"split{seed}", nlu_only=True,
                                         data=[work / "data"])
            parsed, _ = asyncio.run(parse_all(model, [t["text"] for t in test]))
            for t, p in zip(test, parsed, strict=True):
                ranking = p.get("intent_ranking") or [p["intent"]]
                second = ranking[1] if len(ranking) > 1 else {"name": "", "confidence": 0.0}
                results.append((t["intent"], ranking[0]["name"], ranking[0]["confidence"], second["name"],
                                second["confidence"]))
            print(f"split {seed}: trained in {seconds:.0f}s, {len(test)} examples held back", flush=True)
    best: tuple[float, float, float] | None = None
    table = []
    for threshold in [x / 100 for x in range(0, 71, 2)]:
        for ambiguity in (0.0, 0.02, 0.05, 0.1):
            correct = 0
            for gold, top, conf, _, conf2 in results:
                fallback = conf < threshold or (conf - conf2) < ambiguity
                predicted = OOS if fallback or top == OOS else top
                correct += predicted == gold
            accuracy = correct / len(results)
            table.append((threshold, ambiguity, accuracy))
            if best is None or accuracy > best[2] + 1e-9:
                best = (threshold, ambiguity, accuracy)
    assert best is not None
    oos = [r for r in results if r[0] == OOS]
    summary = {
        "examples": len(results),
        "threshold": best[0],
        "ambiguity_threshold": best[1],
        "accuracy": best[2],
        "accuracy_without_fallback": sum((r[1] == r[0]) for r in results) / len(results),
        "oos_recall_at_best": sum(1 for r in oos if r[2] < best[0] or (r[2] - r[4]) < best[1] or r[1] == OOS)
        / max(1, len(oos)),
    }
    print("threshold  ambiguity  accuracy (fallback = out_of_scope), 20% of data/nlu held back")
    for threshold, ambiguity, accuracy in table:
        if ambiguity in (0.0, best[1]):
            print(f"  {threshold:5.2f}     {ambiguity:5.2f}     {100 * accuracy:6.2f}")
    print(json.dumps(summary, indent=2))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a trained model (.tar.gz); default: train one")
    parser.add_argument("--config", type=Path, default=ROOT / "bot/config.yml")
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--out", type=Path, default=RESULTS / "nlu_eval.json")
    parser.add_argument("--tune-threshold", action="store_true", help="tune FallbackClassifier on data/nlu splits")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.tune_threshold:
        summary = tune_threshold()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        (args.out.parent / "fallback_threshold.json").write_text(json.dumps(summary, indent=2))
        return
    tmp = None
    model = args.model
    train_seconds = None
    try:
        if model is None:
            tmp = Path(tempfile.mkdtemp(prefix="nlu-eval-"))
            model, train_seconds = train_model(args.config, tmp)
        figures = evaluate(model, args.heldout)
        figures["train_seconds"] = train_seconds
        print_table(figures)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        print(f"figures written to {args.out}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
