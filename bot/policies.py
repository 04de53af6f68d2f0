"""RulePolicy with its rules indexed by the previous action, for speed; same predictions.

Rasa 3.6's RulePolicy, to predict an action, tests every rule it learnt (here ~230) against
the conversation's recent states, turn by turn. Profiled under load (bench/rasa_bench.py,
py-spy), that scan was a quarter of the server's CPU time. A rule can only apply if its last
state matches the conversation's current one, and in particular has the same previous action
(or both have none, at a conversation's start), and the same intent if it names one. So at
prediction time the scan starts from the rules whose last state has the current previous action
and intent (plus those that name no intent, and the few that name no plain action), and
then Rasa's own test runs on those: the set of applicable rules, and so every prediction, is
unchanged (tests/bot/test_policies.py compares both on every turn of the test stories).

After a user message, RulePolicy also searches rules for the message's *text* (end-to-end
rules), which costs a second featurisation of the whole conversation. A text state has the
previous action `action_listen` and no intent, so only rules whose last state names no intent
after `action_listen` (or is unindexed) could match it; when the model has none (ours: all its
rules name intents), that search finds nothing, and is skipped with the same outcome.

Training is left to RulePolicy untouched: its contradiction checks run `_predict` while the
lookup is still being built, so the index is only used from `predict_action_probabilities`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME, INTENT


class RuleIndex:
    """The keys of one rule lookup, grouped by the previous action and the intent of their last
    state (None: the rule names no intent there, so it stays a candidate for every intent)."""

    def __init__(self, lookup: dict[str, Any]) -> None:
        self.size = len(lookup)
        self.by_action: dict[str, dict[str | None, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.starters: set[str] = set()
        # Rules whose last previous action is not a plain name (action text, "must not be set"):
        # always tested in full.
        self.unindexed: set[str] = set()
        for key in lookup:
            states = RulePolicy._rule_key_to_state(key)
            previous = states[-1].get(PREVIOUS_ACTION) if states else None
            if not states:
                self.unindexed.add(key)
            elif not previous:
                self.starters.add(key)
            elif set(previous) == {ACTION_NAME} and _plain(previous[ACTION_NAME]):
                intent = states[-1].get(USER, {}).get(INTENT)
                self.by_action[previous[ACTION_NAME]][intent if _plain(intent) else None].add(key)
            else:
                self.unindexed.add(key)

    def keys(self) -> set[str]:
        """Every key of the lookup, once."""
        indexed = {key for by_intent in self.by_action.values() for keys in by_intent.values() for key in keys}
        return indexed | self.starters | self.unindexed

    def candidates(self, current: State) -> set[str]:
        """Keys that may apply given the conversation's current state (a superset of those that do)."""
        previous = current.get(PREVIOUS_ACTION)
        if not previous:
            return self.starters | self.unindexed
        # An indexed rule needs the conversation's previous action to have exactly its name, and
        # its intent, if it names one, to be the conversation's.
        by_intent = self.by_action.get(previous.get(ACTION_NAME))
        if by_intent is None:
            return set(self.unindexed)
        intent = current.get(USER, {}).get(INTENT)
        return by_intent.get(None, set()) | by_intent.get(intent, set()) | self.unindexed

    def may_match_text(self) -> bool:
        """Whether a rule could match a state right after a user message featurised by its text
        (previous action `action_listen`, no intent): what `candidates` would return for it."""
        return bool(self.by_action.get(ACTION_LISTEN_NAME, {}).get(None)) or bool(self.unindexed)


def _plain(value: Any) -> bool:
    """A value a rule requires as such (not empty, not "must not be set")."""
    return isinstance(value, str) and bool(value) and value != SHOULD_NOT_BE_SET


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class IndexedRulePolicy(RulePolicy):
    """RulePolicy whose inference scans only the rules that can match the previous action."""

    _indexes: dict[int, RuleIndex]
    _predicting: bool = False

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        self._predicting = True
        try:
            return super().predict_action_probabilities(tracker, domain, rule_only_data, **kwargs)
        finally:
            self._predicting = False

    def _index(self, lookup: dict[str, Any]) -> RuleIndex:
        if not hasattr(self, "_indexes"):
            self._indexes = {}
        index = self._indexes.get(id(lookup))
        if index is None or index.size != len(lookup):
            index = self._indexes[id(lookup)] = RuleIndex(lookup)
        return index

    def _find_action_from_rules(self, tracker: DialogueStateTracker, domain: Domain,
                                use_text_for_last_user_input: bool) -> tuple[str | None, str | None, bool]:
        if (self._predicting and use_text_for_last_user_input
                and not any(self._index(self.lookup[table]).may_match_text()
                            for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH))):
            # No rule, nor loop unhappy-path rule, can match: what RulePolicy's search would find
            # (its source is only read when it found an action).
            return None, None, False
        return super()._find_action_from_rules(tracker, domain, use_text_for_last_user_input)

    def _get_possible_keys(self, lookup: dict[str, Any], states: list[State]) -> set[str]:
        if not self._predicting or not states:
            return super()._get_possible_keys(lookup, states)
        candidates = self._index(lookup).candidates(states[-1])
        return super()._get_possible_keys(dict.fromkeys(candidates), states)
