"""Rasa's tracker stores, forgetting a conversation once its person asked to delete their data.

"Delete my data" erases the person in the backend (actions/privacy.py), but Rasa's tracker store
still held the conversation: every message typed (name, number, reference), every slot. These
stores delete the whole conversation instead of saving it, when the tracker shows the erasure
went through: `action_delete_my_data` ran and forgot the person (its `phone` SlotSet to None;
when the backend could not erase, the action forgets nothing, and the conversation is kept so
that trying again erases the same number). The next message starts a new conversation.

bot/endpoints.yml (in memory, `make run`) and bot/endpoints.compose.yml (PostgreSQL) use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ERASE_ACTION = "action_delete_my_data"


def erased(events: Sequence[Event]) -> bool:
    """Whether, since the latest user message, `action_delete_my_data` ran and forgot the person
    (set `phone` to None). Only that turn is read, from the end, so each save stays cheap: a
    conversation with an erasure in it is never saved, so the erasure is in the turn being saved."""
    turn: list[Event] = []
    for event in reversed(events):
        if isinstance(event, UserUttered):
            break
        turn.append(event)
    after_erasure = False
    for event in reversed(turn):
        if isinstance(event, ActionExecuted):
            after_erasure = event.action_name == ERASE_ACTION
        elif after_erasure and isinstance(event, SlotSet) and event.key == "phone" and event.value is None:
            return True
    return False


class ErasingInMemoryTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory store; an erased conversation is dropped instead of saved."""

    def __init__(self, domain: Any, event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url to custom stores; none here
        super().__init__(domain, event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        if erased(tracker.events):
            self.store.pop(tracker.sender_id, None)
            return
        await super().save(tracker)


class ErasingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL store; an erased conversation's events are deleted (every session)."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        if erased(tracker.events):
            with self.session_scope() as session:
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
                session.commit()
            return
        await super().save(tracker)
