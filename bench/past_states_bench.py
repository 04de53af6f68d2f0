"""CPU of the past states a message needs, Rasa's way and bot/past_states.py's, by conversation length.

    PYTHONPATH=. .venv-bot/bin/python bench/past_states_bench.py

A message in a conversation of n turns ("merci" → utter_you_are_welcome), as Rasa serves it: the
tracker is rebuilt from the store, then two predictions (the answer, then listening), each asking
for the states twice (RulePolicy; MemoizationPolicy, which hides rule-only turns). Prints the CPU
milliseconds per message, each the best of 5 rounds (this machine's timings vary).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.past_states import states_for_tracker_history

ROOT = Path(__file__).resolve().parents[1]
RASA = Domain.states_for_tracker_history
RULE_ONLY: dict[str, Any] = {"rule_only_slots": [], "rule_only_loops": []}


def _conversation(turns: int) -> list[Event]:
    events: list[Event] = []
    for _ in range(turns):
        events += [ActionExecuted("action_listen"), UserUttered("merci", {"name": "thank", "confidence": 1.0}),
                   ActionExecuted("utter_you_are_welcome")]
    return [*events, ActionExecuted("action_listen"), UserUttered("merci", {"name": "thank", "confidence": 1.0})]


def _message_ms(states: Callable[..., Any], domain: Domain, events: list[Event], repeats: int = 20) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(repeats):
            tracker = DialogueStateTracker.from_events("bench", events, slots=domain.slots)
            for action in ("utter_you_are_welcome", "action_listen"):
                states(domain, tracker)
                states(domain, tracker, ignore_rule_only_turns=True, rule_only_data=dict(RULE_ONLY))
                tracker.update(ActionExecuted(action))
        best = min(best, 1000 * (time.process_time() - started) / repeats)
    return best


def main() -> None:
    logging.disable(logging.WARNING)
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    print("turns   Rasa ms   ours ms   (CPU per message, best of 5)")
    for turns in (4, 20, 40, 120):
        events = _conversation(turns)
        rasa, ours = _message_ms(RASA, domain, events), _message_ms(states_for_tracker_history, domain, events)
        print(f"{turns:>5} {rasa:>9.2f} {ours:>9.2f}")


if __name__ == "__main__":
    main()
