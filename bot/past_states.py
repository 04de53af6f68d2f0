"""A conversation's past states, computed once per message instead of once per prediction.

Rasa's policies read a tracker's history as a list of states (`Domain.states_for_tracker_history`):
it replays the conversation's applied events from the start into a scratch tracker and takes the
state before each bot action. Each policy does so for each prediction, and a message makes
several (the answer, then listening): four replays of the whole conversation per message, so
the cost of a message grows with the length of its conversation (py-spy, a 160-message
conversation: 42% of the CPU).

Here the replay is kept on the tracker and resumed: a later call on the same tracker replays only
the events added since. Each variant of the call (its flags and rule-only data) has its own
replay. The result is the same list Rasa computes, exactly (tests/bot/test_past_states.py checks
it on every turn of every story): the same loop, with its running values kept between calls.
A history that is not the earlier one plus new events (a rewind, a loop's undo, a trimmed
history) starts the replay over. Each call returns fresh copies of the states: callers change
them (the featurizer drops a message's text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

_CACHE = "_ge_past_states"


@dataclass
class _Replay:
    """Rasa's `states_for_tracker_history` loop, stopped after the last event it has seen."""

    tracker: DialogueStateTracker  # the scratch tracker, all replayed events applied
    events: list[Event] = field(default_factory=list)  # the applied events replayed so far
    states: list[State] = field(default_factory=list)  # one per bot action so far
    last_ml_action_sub_state: SubState | None = None
    turn_was_hidden: bool = False

    def continues(self, applied: list[Event]) -> bool:
        """Whether `applied` is the replayed history plus events added after it."""
        done = len(self.events)
        return len(applied) >= done and all(a is b for a, b in zip(applied, self.events, strict=False))


def _step(domain: Domain, replay: _Replay, hide_rule_turn: bool, omit_unset_slots: bool,
          ignore_rule_only_turns: bool, rule_only_data: dict[str, Any] | None) -> None:
    """One turn of Rasa's loop (rasa/shared/core/domain.py, states_for_tracker_history)."""
    tr = replay.tracker
    if ignore_rule_only_turns:
        # remember previous ml action based on the last non hidden turn
        if not replay.turn_was_hidden:
            replay.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        # followup action or happy path loop prediction don't change whether the turn is hidden
        if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
            replay.turn_was_hidden = hide_rule_turn
        if replay.turn_was_hidden:
            return
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if replay.states:
            domain._substitute_rule_only_user_input(state, replay.states[-1])
        if replay.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = replay.last_ml_action_sub_state
    replay.states.append(domain._clean_state(state))


def _copy(state: State) -> State:
    # A state's sub-states are flat dicts of strings and tuples: two levels copy it all.
    return {kind: dict(sub_state) for kind, sub_state in state.items()}  # type: ignore[misc]


def states_for_tracker_history(self: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: dict[str, Any] | None = None) -> list[State]:
    """Domain.states_for_tracker_history, resuming the replay of an earlier call on `tracker`."""
    applied = tracker.applied_events()
    replays: dict[tuple[Any, ...], _Replay] = tracker.__dict__.setdefault(_CACHE, {})
    # RulePolicy builds its rule_only_data anew for each call: the key holds its contents.
    key = (id(self), omit_unset_slots, ignore_rule_only_turns, repr(sorted((rule_only_data or {}).items())))
    replay = replays.get(key)
    if replay is None or not replay.continues(applied):
        replay = replays[key] = _Replay(tracker.init_copy())
    flags = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in applied[len(replay.events):]:
        if isinstance(event, ActionExecuted):
            _step(self, replay, event.hide_rule_turn, *flags)
        replay.tracker.update(event)
        replay.events.append(event)
    # The state after the last event: computed on a copy of the running values, as the next
    # event may be a bot action whose turn is computed differently.
    last = _Replay(replay.tracker, replay.events, list(replay.states), replay.last_ml_action_sub_state,
                   replay.turn_was_hidden)
    _step(self, last, False, *flags)
    return [_copy(state) for state in last.states]
