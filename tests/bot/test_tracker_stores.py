"""bot/tracker_stores.py: a conversation whose person deleted their data is gone from Rasa's
tracker store (in memory and SQL), any other is saved as by Rasa's own stores."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
import yaml
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import class_from_module_path
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_stores import ErasingInMemoryTrackerStore, ErasingSQLTrackerStore, erased

ROOT = Path(__file__).resolve().parents[2]


def _conversation(sender: str, domain: Domain, *after: object) -> DialogueStateTracker:
    """A web conversation where the person typed their name and number, then whatever `after`."""
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              UserUttered("je m'appelle Salma Benali, 0612345678", {"name": "inform", "confidence": 1.0}),
              SlotSet("full_name", "Salma Benali"), SlotSet("phone", "+212612345678"),
              BotUttered("Merci Salma"), ActionExecuted("action_listen"),
              UserUttered("supprimer mes données", {"name": "delete_my_data", "confidence": 1.0}),
              ActionExecuted("utter_confirm_delete"), ActionExecuted("action_listen"),
              UserUttered("oui", {"name": "affirm", "confidence": 1.0}), *after]
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots)


ERASED = (ActionExecuted("action_delete_my_data"), BotUttered("C'est fait"), SlotSet("full_name", None),
          SlotSet("phone", None), ActionExecuted("action_listen"))
# The backend was down: the action said so and forgot nothing, to erase the same number later.
NOT_ERASED = (ActionExecuted("action_delete_my_data"), BotUttered("Désolé, réessayez"), ActionExecuted("action_listen"))


def test_an_erasure_is_the_action_forgetting_the_number() -> None:
    assert erased(ERASED)
    assert not erased(NOT_ERASED)
    # The number forgotten by another action (a booking form reset) is not an erasure.
    assert not erased([ActionExecuted("booking_form"), SlotSet("phone", None)])
    assert not erased([ActionExecuted("action_delete_my_data"), ActionExecuted("action_listen"),
                       SlotSet("phone", None)])
    # Only the turn being saved counts (a saved conversation never holds an erasure).
    assert erased([UserUttered("oui", {"name": "affirm"}), *ERASED])
    assert not erased([*ERASED, UserUttered("bonjour", {"name": "greet"}), ActionExecuted("utter_greet")])


def _stores(tmp_path: Path, domain: Domain) -> list[tuple[TrackerStore, TrackerStore]]:
    """Each of our stores, with Rasa's own beside it."""
    return [(ErasingInMemoryTrackerStore(domain, host=None), InMemoryTrackerStore(domain)),
            (ErasingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "ours.db")),
             SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db")))]


def test_an_erased_conversation_is_deleted_and_others_are_kept(tmp_path: Path, domain: Domain) -> None:
    async def scenario(store: TrackerStore, rasas: TrackerStore) -> None:
        kept = _conversation("kept", domain, *NOT_ERASED)
        await store.save(kept)
        await rasas.save(kept)
        gone = _conversation("gone", domain)
        await store.save(gone)  # before the erasure: saved as usual, with what the person typed
        assert (await store.retrieve("gone")) is not None
        for event in ERASED:
            gone.update(event)
        await store.save(gone)
        assert await store.retrieve("gone") is None
        assert "gone" not in set(await store.keys())
        again, expected = await store.retrieve("kept"), await rasas.retrieve("kept")
        assert again is not None and expected is not None
        assert [e.as_dict() for e in again.events] == [e.as_dict() for e in expected.events]
        assert "je m'appelle Salma Benali, 0612345678" in [e.text for e in again.events if isinstance(e, UserUttered)]
        # The person writes again: a new conversation, saved as usual.
        fresh = DialogueStateTracker.from_events("gone", [ActionExecuted("action_session_start"), SessionStarted(),
                                                          ActionExecuted("action_listen")], slots=domain.slots)
        await store.save(fresh)
        await rasas.save(fresh)
        again, expected = await store.retrieve("gone"), await rasas.retrieve("gone")
        assert again is not None and expected is not None
        assert [e.as_dict() for e in again.events] == [e.as_dict() for e in expected.events]

    for store, rasas in _stores(tmp_path, domain):
        asyncio.run(scenario(store, rasas))


def test_the_sql_store_deletes_every_session_of_the_conversation(tmp_path: Path, domain: Domain) -> None:
    store = ErasingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "sessions.db"))

    async def scenario() -> None:
        tracker = _conversation("two-sessions", domain)
        await store.save(tracker)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())  # a later session: retrieve() returns only this one
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        current = await store.retrieve("two-sessions")
        assert current is not None
        for event in ERASED:
            current.update(event)
        await store.save(current)
        assert await store.retrieve_full_tracker("two-sessions") is None

    asyncio.run(scenario())


@pytest.mark.parametrize(("name", "expected"), [("endpoints.yml", ErasingInMemoryTrackerStore),
                                                ("endpoints.compose.yml", ErasingSQLTrackerStore)])
def test_our_endpoints_use_the_erasing_stores(name: str, expected: type, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("ACTION_ENDPOINT_URL", "TRACKER_DB_HOST", "TRACKER_DB_NAME", "TRACKER_DB_USER",
                     "TRACKER_DB_PASSWORD", "REDIS_HOST"):
        monkeypatch.setenv(variable, "x")
    config = read_endpoint_config(str(ROOT / "bot" / name), "tracker_store")
    assert config is not None
    # What Rasa does with a custom type: import it (a failed import would silently fall back to
    # memory), then call it with the endpoint's settings.
    cls = class_from_module_path(config.type)
    assert cls is expected
    inspect.signature(cls.__init__).bind(None, host=config.url, domain=None, event_broker=None, **config.kwargs)
    written = yaml.safe_load((ROOT / "bot" / name).read_text())["tracker_store"]["type"]
    assert written == f"bot.tracker_stores.{cls.__name__}"
