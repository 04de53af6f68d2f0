"""IndexedRulePolicy finds exactly the rules RulePolicy finds, on every turn of every story.

The trained model's rule policy (the `policy` fixture, tests/bot/conftest.py) is used; the stories
of data/stories and tests/bot/stories are replayed turn by turn and, before each bot action, the
applicable rules (and loop unhappy-path rules) found through the index are compared with those
of Rasa's own full scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies import IndexedRulePolicy, RuleIndex


def _prefixes(tracker: DialogueStateTracker, domain: Domain) -> Iterator[DialogueStateTracker]:
    """The tracker as it stood before each bot action after the first user message."""
    events = list(tracker.events)
    seen_user = False
    for i, event in enumerate(events):
        seen_user = seen_user or isinstance(event, UserUttered)
        if seen_user and isinstance(event, ActionExecuted):
            yield DialogueStateTracker.from_events(tracker.sender_id, events[:i], slots=domain.slots)


def _keys(policy: IndexedRulePolicy, lookup: dict[str, Any], states: list[Any], indexed: bool) -> set[str]:
    policy._predicting = indexed
    try:
        return policy._get_possible_keys(lookup, states)
    finally:
        policy._predicting = False


def test_the_index_finds_the_same_rules_as_the_full_scan(policy: IndexedRulePolicy, domain: Domain,
                                                         story_trackers: list[DialogueStateTracker]) -> None:
    compared = nonempty = 0
    for tracker in story_trackers:
        for prefix in _prefixes(tracker, domain):
            states = policy._prediction_states(prefix, domain, False, rule_only_data=policy._get_rule_only_data())
            for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
                lookup = policy.lookup[table]
                expected = RulePolicy._get_possible_keys(policy, lookup, states)
                assert _keys(policy, lookup, states, indexed=True) == expected, prefix.events
                compared += 1
                nonempty += bool(expected)
    # The comparison means something only if many turns were checked and rules did match.
    assert compared > 500 and nonempty > 100, (compared, nonempty)


def test_the_index_only_narrows_the_scan(policy: IndexedRulePolicy) -> None:
    lookup = policy.lookup[RULES]
    index = RuleIndex(lookup)
    assert index.keys() == set(lookup)
    # Most rules are indexed by a previous action and an intent, so a prediction tests few of them.
    largest = max(len(keys) for by_intent in index.by_action.values() for keys in by_intent.values())
    assert largest + len(index.unindexed) < len(lookup) / 4


def test_predictions_are_rule_policys_on_every_turn(policy: IndexedRulePolicy, domain: Domain,
                                                    story_trackers: list[DialogueStateTracker]) -> None:
    """The whole prediction (the text search skipped, the index used) against RulePolicy's own."""
    compared = after_user = 0
    for tracker in story_trackers:
        for prefix in _prefixes(tracker, domain):
            ours = policy.predict_action_probabilities(prefix, domain)
            theirs = RulePolicy.predict_action_probabilities(policy, prefix, domain)  # _predicting unset: no shortcut
            assert ours.probabilities == theirs.probabilities, prefix.events
            assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events], prefix.events
            assert (ours.is_end_to_end_prediction, ours.is_no_user_prediction) == (
                theirs.is_end_to_end_prediction, theirs.is_no_user_prediction)
            compared += 1
            after_user += prefix.latest_action_name == ACTION_LISTEN_NAME
    assert compared > 250 and after_user > 100, (compared, after_user)


def test_our_rules_never_match_a_messages_text(policy: IndexedRulePolicy) -> None:
    # So the text search is skipped: every rule names the intent it answers.
    assert not any(RuleIndex(policy.lookup[t]).may_match_text() for t in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH))
