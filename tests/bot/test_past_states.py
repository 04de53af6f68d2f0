"""bot/past_states.py lists exactly the states Rasa lists, on every turn of every story, however
the conversation grows or rewinds."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionReverted, Event, UserUtteranceReverted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.past_states import states_for_tracker_history
from bot.policies import IndexedRulePolicy

RASA = Domain.states_for_tracker_history


def _variants(policy: IndexedRulePolicy) -> list[dict[str, Any]]:
    """The calls our policies make (RulePolicy; MemoizationPolicy, which hides rule-only turns),
    and the slot-omitting one of other featurizers."""
    rule_only = policy._get_rule_only_data()
    return [{}, {"ignore_rule_only_turns": True, "rule_only_data": rule_only},
            {"omit_unset_slots": True}, {"ignore_rule_only_turns": True, "rule_only_data": None}]


def _grow(tracker: DialogueStateTracker, domain: Domain, variants: list[dict[str, Any]]) -> int:
    """Replays `tracker`'s events one by one into a new tracker, as a conversation grows, and
    compares the states after each event; returns the number of comparisons."""
    live = DialogueStateTracker.from_events(tracker.sender_id, [], slots=domain.slots)
    compared = 0
    for event in tracker.events:
        live.update(event)
        for variant in variants:
            assert states_for_tracker_history(domain, live, **variant) == RASA(domain, live, **variant), (
                variant, list(live.events))
            compared += 1
    return compared


def test_the_states_are_rasas_on_every_turn_of_every_story(policy: IndexedRulePolicy, domain: Domain,
                                                            story_trackers: list[DialogueStateTracker]) -> None:
    variants = _variants(policy)
    compared = sum(_grow(tracker, domain, variants) for tracker in story_trackers)
    # Forms (whose loop executions undo earlier ones in the applied events) are among the stories.
    assert any(e.action_name == "booking_form" for t in story_trackers for e in t.events
               if isinstance(e, ActionExecuted))
    assert compared > 5000, compared


def _utter(text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0})


@pytest.mark.parametrize("rewind", [UserUtteranceReverted(), ActionReverted()])
def test_a_rewound_conversation_starts_the_replay_over(policy: IndexedRulePolicy, domain: Domain,
                                                       rewind: Event) -> None:
    events: list[Event] = [ActionExecuted("action_listen"), _utter("bonjour", "greet"),
                           ActionExecuted("utter_greet"), ActionExecuted("action_listen"),
                           _utter("merci", "thank"), ActionExecuted("utter_you_are_welcome")]
    tracker = DialogueStateTracker.from_events("rewind", [], slots=domain.slots)
    for event in [*events, rewind, ActionExecuted("action_listen"), _utter("au revoir", "goodbye")]:
        tracker.update(event)
        for variant in _variants(policy):
            assert states_for_tracker_history(domain, tracker, **variant) == RASA(domain, tracker, **variant)


def test_callers_may_change_the_states_they_get(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(
        "change", [ActionExecuted("action_listen"), _utter("bonjour", "greet"), ActionExecuted("utter_greet"),
                   ActionExecuted("action_listen"), _utter("merci", "thank")], slots=domain.slots)
    first = states_for_tracker_history(domain, tracker)
    assert len(first) > 2
    for state in first:  # as the featurizer drops a message's text
        for sub_state in state.values():
            sub_state.clear()  # type: ignore[attr-defined]
    first.append({})
    assert states_for_tracker_history(domain, tracker) == RASA(domain, tracker)


def test_a_later_call_replays_only_the_new_events(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = DialogueStateTracker.from_events(
        "resume", [ActionExecuted("action_listen"), _utter("bonjour", "greet")], slots=domain.slots)
    states_for_tracker_history(domain, tracker)
    replayed: list[Event] = []
    update = DialogueStateTracker.update

    def counting(self: DialogueStateTracker, event: Event, *args: Any, **kwargs: Any) -> None:
        replayed.append(event)
        update(self, event, *args, **kwargs)

    monkeypatch.setattr(DialogueStateTracker, "update", counting)
    tracker.update(ActionExecuted("utter_greet"))
    replayed.clear()
    states_for_tracker_history(domain, tracker)
    assert [getattr(e, "action_name", None) for e in replayed] == ["utter_greet"]
