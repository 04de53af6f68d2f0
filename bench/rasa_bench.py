"""Our NLU pipeline against Rasa's defaults: training time, accuracy, and one server's throughput.

    PYTHONPATH=. .venv-bot/bin/python bench/rasa_bench.py            # both configs (~30 min)
    PYTHONPATH=. .venv-bot/bin/python bench/rasa_bench.py --only ours

For each config, in the same run and on the same data (bot/domain, data/nlu, data/stories,
data/rules):

1. `rasa train` (wall time);
2. accuracy on the held-out set (bench/nlu_eval.py: intent accuracy, macro-F1, out_of_scope
   recall per variety);
3. one Rasa server as `make run` starts it (scripts/serve.sh: bot/launcher.py, in-memory tracker
   store), with the action server and the backend beside it (each conversation's
   action_session_start runs there), on free ports and stopped afterwards; loaded by 1 and then
   10 concurrent users, each playing short conversations (greet, bot challenge, thanks, goodbye)
   for a fixed time; messages per second and p50/p95 latency of POST /webhooks/rest/webhook.
   Those users send their next message as soon as the answer arrives: the server is saturated
   and the latency at 10 is mostly queueing (10 / throughput). Then 10 users again who pause
   `--pause` seconds (default 1) after each answer, as people read and type: the latency of 10
   conversations going on at once without saturating the server.
   Every message must get an answer: errors or unanswered messages stop the bench.
   Last, one user in long conversations (3 of `--long` messages, default 120: the same four turns
   over and over): the latency of their first and last 20 messages, which shows how a message's
   cost grows with the length of its conversation (Rasa replays a conversation's history).

"default" is a config with no pipeline and no policies: Rasa 3.6 fills in its defaults (DIET,
ResponseSelector, TED and UnexpecTED policies...). It trains slowly: run this in the background.
Training and servers use one thread each (OMP/TF), the load generator runs in this process.
Results: printed table, and bench/results/rasa_bench.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RASA = str(Path(sys.executable).with_name("rasa"))

# Short conversations in the four varieties; every turn is answered by a rule and responses.
CONVERSATIONS = [
    ["bonjour", "vous êtes un robot ?", "merci beaucoup", "au revoir"],
    ["السلام عليكم", "هل أنت روبوت؟", "شكرا جزيلا", "مع السلامة"],
    ["السلام", "واش نتا روبو؟", "شكرا بزاف", "بسلامة"],
    ["salam", "wach nta robot?", "chokran bzaf", "bslama"],
]


def _load_nlu_eval() -> Any:
    spec = importlib.util.spec_from_file_location("nlu_eval", ROOT / "bench" / "nlu_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_config(path: Path, epochs: int = 100) -> Path:
    """Rasa's defaults: our config without its pipeline and policies. With fewer epochs, Rasa
    3.6's default pipeline and policies written out with that many epochs: the same components
    and so the same cost per message, trained in minutes instead of hours."""
    ours = yaml.safe_load((ROOT / "bot" / "config.yml").read_text())
    config: dict[str, Any] = {k: ours[k] for k in ("recipe", "language", "assistant_id") if k in ours}
    if epochs != 100:
        import rasa

        defaults = yaml.safe_load((Path(rasa.__file__).parent / "engine/recipes/config_files/default_config.yml")
                                  .read_text())
        for part in ("pipeline", "policies"):
            config[part] = [{**c, "epochs": epochs} if "epochs" in c else c for c in defaults[part]]
    path.write_text(yaml.safe_dump(config))
    return path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _stack(model: Path, workdir: Path, name: str) -> Any:
    """Backend, action server and Rasa serving `model`, as tests/e2e/stack.py runs them for the
    end-to-end tests (scripts/serve.sh; SQLite backend, in-memory tracker store)."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from stack import Stack

    # One thread per library, as for training (nlu_eval.quiet_env); otherwise as deployed.
    env = {"RASA_MODEL": str(model),
           **{k: v for k, v in _load_nlu_eval().quiet_env().items() if k.endswith(("THREADS", "_LOG_LEVEL"))}}
    return Stack(database_url=f"sqlite:///{workdir / f'{name}.db'}", extra_env=env,
                 services=("backend", "actions", "rasa"), logs=workdir / f"{name}-logs")


async def _load(url: str, users: int, seconds: float, tag: str, pause: float = 0.0) -> dict[str, Any]:
    """`users` concurrent users, each playing conversations back to back for `seconds`, waiting
    `pause` seconds after each answer."""
    latencies: list[float] = []
    errors = 0
    empty = 0
    counter = itertools.count()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)

    async def user(client: httpx.AsyncClient, index: int) -> None:
        nonlocal errors, empty
        while time.perf_counter() < deadline:
            conversation = CONVERSATIONS[next(counter) % len(CONVERSATIONS)]
            sender = f"{tag}-{index}-{next(counter)}"
            for text in conversation:
                started = time.perf_counter()
                try:
                    reply = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
                    reply.raise_for_status()
                    if not reply.json():
                        empty += 1
                except (httpx.HTTPError, ValueError):
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if pause:
                    await asyncio.sleep(pause)

    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(user(client, i) for i in range(users)))
        elapsed = time.perf_counter() - started
    return {
        "users": users,
        "pause_seconds": pause,
        "messages": len(latencies),
        "errors": errors,
        "empty_replies": empty,
        "seconds": elapsed,
        "messages_per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p95_ms": 1000 * _percentile(latencies, 0.95) if latencies else None,
    }


async def _long_conversation(url: str, messages: int, tag: str, repeats: int = 3) -> dict[str, Any]:
    """One user in `repeats` conversations of `messages` messages, one after the other: p50
    latency of their first and of their last 20 messages (pooled: one run varies too much)."""
    texts = CONVERSATIONS[0]
    window = min(20, messages)
    first: list[float] = []
    last: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for repeat in range(repeats):
            latencies: list[float] = []
            for i in range(messages):
                started = time.perf_counter()
                reply = await client.post("/webhooks/rest/webhook",
                                          json={"sender": f"{tag}-{repeat}", "message": texts[i % len(texts)]})
                reply.raise_for_status()
                if not reply.json():
                    raise SystemExit(f"[{tag}] message {i} unanswered")
                latencies.append(time.perf_counter() - started)
            first += latencies[:window]
            last += latencies[-window:]
    return {"messages": messages, "repeats": repeats, "window": window,
            "first_p50_ms": 1000 * statistics.median(first), "last_p50_ms": 1000 * statistics.median(last)}


def bench_config(name: str, config: Path, workdir: Path, seconds: float, nlu_eval: Any,
                 *, evaluate: bool = True, epochs: int | None = None, pause: float = 1.0,
                 long: int = 120) -> dict[str, Any]:
    print(f"[{name}] training ...", flush=True)
    model, train_seconds = nlu_eval.train_model(config, workdir / name, name=name)
    result: dict[str, Any] = {"config": name, "train_seconds": train_seconds, "model": str(model), "epochs": epochs,
                              "accuracy": None}
    if evaluate:
        print(f"[{name}] trained in {train_seconds:.0f}s; evaluating on the held-out set ...", flush=True)
        accuracy = nlu_eval.evaluate(model)
        result["accuracy"] = {v: {k: f[k] for k in ("intent_accuracy", "intent_macro_f1", "oos_recall")}
                              for v, f in accuracy["varieties"].items()}
    else:
        print(f"[{name}] trained in {train_seconds:.0f}s with {epochs} epochs: accuracy not comparable, skipped",
              flush=True)
    stack = _stack(model, workdir, name).start()
    print(f"[{name}] serving at {stack.rasa_url} ...", flush=True)
    try:
        # Warm-up: one conversation per variety, not measured.
        asyncio.run(_load(stack.rasa_url, 1, 2.0, f"{name}-warm"))
        for key, users, wait in (("load_1", 1, 0.0), ("load_10", 10, 0.0), ("load_10_paced", 10, pause)):
            result[key] = load = asyncio.run(_load(stack.rasa_url, users, seconds, f"{name}-{key}", wait))
            print(f"[{name}] {users:>2} users{f', {wait:g} s pauses' if wait else ''}: "
                  f"{load['messages_per_second']:.1f} msg/s, p50 {load['p50_ms']:.1f} ms, "
                  f"p95 {load['p95_ms']:.1f} ms, {load['errors']} errors, {load['empty_replies']} unanswered",
                  flush=True)
            # A message the bot did not answer (an action that failed) is not a measurement.
            if load["errors"] or load["empty_replies"]:
                raise SystemExit(f"[{name}] {load['errors']} errors and {load['empty_replies']} unanswered messages: "
                                 f"see the logs in {workdir / (name + '-logs')}")
        if long:
            result["long"] = grown = asyncio.run(_long_conversation(stack.rasa_url, long, f"{name}-long"))
            print(f"[{name}] {grown['repeats']} conversations of {long} messages: p50 {grown['first_p50_ms']:.1f} ms "
                  f"for their first {grown['window']}, {grown['last_p50_ms']:.1f} ms for their last {grown['window']}",
                  flush=True)
    finally:
        stack.stop()
    return result


def print_table(results: list[dict[str, Any]]) -> None:
    varieties = ("fr", "ar", "ary", "ary_latn")
    print()
    print("config    train   intent accuracy % (fr/ar/ary/ary_latn)   macro-F1 %                  "
          "OOS recall %                  1 user: msg/s p50 p95 ms     10 users: msg/s p50 p95 ms   "
          "10 pausing users: msg/s p50 p95 ms")
    for r in results:
        if r["accuracy"]:
            acc = "/".join(f"{100 * r['accuracy'][v]['intent_accuracy']:.1f}" for v in varieties)
            f1 = "/".join(f"{100 * r['accuracy'][v]['intent_macro_f1']:.1f}" for v in varieties)
            oos = "/".join(f"{100 * (r['accuracy'][v]['oos_recall'] or 0):.1f}" for v in varieties)
        else:
            acc = f1 = oos = f"(not measured: {r['epochs']} epochs)"
        one, ten, paced = r["load_1"], r["load_10"], r["load_10_paced"]
        print(f"{r['config']:<9} {r['train_seconds']:>5.0f}s  {acc:<38} {f1:<27} {oos:<29} "
              f"{one['messages_per_second']:>6.1f} {one['p50_ms']:>5.1f} {one['p95_ms']:>6.1f}      "
              f"{ten['messages_per_second']:>6.1f} {ten['p50_ms']:>6.1f} {ten['p95_ms']:>6.1f}      "
              f"{paced['messages_per_second']:>6.1f} {paced['p50_ms']:>6.1f} {paced['p95_ms']:>6.1f}")
    for r in results:
        if r.get("long"):
            grown = r["long"]
            print(f"{r['config']}: {grown['repeats']} conversations of {grown['messages']} messages, "
                  f"p50 of their first / last {grown['window']}: "
                  f"{grown['first_p50_ms']:.1f} / {grown['last_p50_ms']:.1f} ms")
    if len(results) == 2:
        ours, default = results
        ratio = ours["load_10"]["messages_per_second"] / default["load_10"]["messages_per_second"]
        print(f"throughput at 10 users: ours / default = {ratio:.1f}x; p95 ours {ours['load_10']['p95_ms']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("ours", "default"))
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration per concurrency level")
    parser.add_argument("--pause", type=float, default=1.0,
                        help="seconds the pausing users wait after each answer (the third load)")
    parser.add_argument("--long", type=int, default=120,
                        help="messages of the long conversation (0: not measured)")
    parser.add_argument("--out", type=Path, default=RESULTS / "rasa_bench.json")
    parser.add_argument("--default-epochs", type=int, default=100,
                        help="epochs of the default's neural components; under 100 its accuracy is not measured")
    args = parser.parse_args()
    # Killed with SIGTERM, still stop the services it started (the `finally` of bench_config).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    nlu_eval = _load_nlu_eval()
    configs = [("ours", ROOT / "bot" / "config.yml"), ("default", None)]
    if args.only:
        configs = [c for c in configs if c[0] == args.only]
    results = []
    with tempfile.TemporaryDirectory(prefix="rasa-bench-") as tmp:
        workdir = Path(tmp)
        for name, config in configs:
            path = config or default_config(workdir / "default-config.yml", args.default_epochs)
            reduced = name == "default" and args.default_epochs != 100
            results.append(bench_config(name, path, workdir, args.seconds, nlu_eval,
                                        evaluate=not reduced, epochs=args.default_epochs if reduced else None,
                                        pause=args.pause, long=args.long))
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
