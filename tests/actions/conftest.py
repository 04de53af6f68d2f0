"""Helpers shared by the action tests (every feature's tests use them; keep them generic).

- `make_tracker(...)` / `tracker_from_json(...)`: a rasa-sdk Tracker from the JSON the Rasa server
  sends to the action server, with only what a test needs spelt out.
- `dispatcher`: a fresh CollectingDispatcher.
- `backend`: the backend replaced by an `httpx.MockTransport` (no live service): declare the
  answers with `backend.on("GET", "/programs", json=[...])`, take it down with `backend.down = True`,
  read what was sent with `backend.calls(...)`.
- `domain`: the domain the action server serves to the actions (actions/domain.py: `bot/domain`
  loaded by Rasa).
- `responses_of`, `message_for`, `payloads_of`, `slots_set`: read what an action said and did.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.analytics import reports_sent
from actions.backend import BackendClient, set_client
from actions.domain import served_domain

ROOT = Path(__file__).resolve().parents[2]
BACKEND_URL = "http://backend.test"
SERVICE_TOKEN = "test-service-token"


# --------------------------------------------------------------------------------------- domain
@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return served_domain()[0]


# -------------------------------------------------------------------------------------- trackers
def user_event(
    text: str = "",
    intent: str = "inform",
    entities: Sequence[dict[str, Any]] = (),
    *,
    channel: str = "rest",
    metadata: dict[str, Any] | None = None,
    confidence: float = 1.0,
) -> dict[str, Any]:
    """A `user` event as Rasa serialises it."""
    return {
        "event": "user",
        "text": text,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": confidence},
                       "entities": list(entities)},
        "input_channel": channel,
        "metadata": metadata or {},
    }


def action_event(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def bot_event(text: str = "", *, response: str | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": response} if response else {}}


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def entity(name: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"entity": name, "value": value, **extra}


def tracker_from_json(state: dict[str, Any] | str) -> Tracker:
    """A Tracker from the JSON the Rasa server posts (a dict or its text)."""
    return Tracker.from_dict(json.loads(state) if isinstance(state, str) else state)


def make_tracker(
    *,
    text: str = "",
    intent: str = "inform",
    entities: Sequence[dict[str, Any]] = (),
    slots: dict[str, Any] | None = None,
    language: str = "fr",
    sender_id: str = "test-user",
    channel: str = "rest",
    metadata: dict[str, Any] | None = None,
    history: Sequence[dict[str, Any]] = (),
    after: Sequence[dict[str, Any]] = (),
    active_loop: str | None = None,
    requested_slot: str | None = None,
    intent_ranking: Sequence[tuple[str, float]] = (),
    latest_action_name: str = "action_listen",
) -> Tracker:
    """A tracker whose latest event is the user's message `text` (with `intent`, `entities`).

    `history` holds the events before that message (see `user_event`, `action_event`...), `after`
    those after it (a form's validation sees `action_event("<form>")` there, as Rasa adds it; a
    digression answered first shows its action there too). The `language` slot is set from
    `language` unless `slots` sets it.
    """
    all_slots = {"language": language, **(slots or {})}
    if requested_slot is not None:
        all_slots["requested_slot"] = requested_slot
    latest = user_event(text, intent, entities, channel=channel, metadata=metadata)
    latest_message = {
        **latest["parse_data"],
        "intent_ranking": [{"name": name, "confidence": conf} for name, conf in intent_ranking]
        or [{"name": intent, "confidence": 1.0}],
        "metadata": metadata or {},
    }
    return tracker_from_json({
        "sender_id": sender_id,
        "slots": all_slots,
        "latest_message": latest_message,
        "events": [*history, latest, *after],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": latest_action_name,
    })


# ------------------------------------------------------------------------------------ dispatcher
@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def responses_of(dispatcher: CollectingDispatcher) -> list[str | None]:
    """The names of the domain responses uttered, in order (None for a plain text)."""
    return [message.get("response") for message in dispatcher.messages]


def message_for(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    """The first message that uttered `response` (its kwargs are the template's placeholders)."""
    for message in dispatcher.messages:
        if message.get("response") == response:
            return message
    raise AssertionError(f"{response} was not uttered; uttered: {responses_of(dispatcher)}")


def payloads_of(message: dict[str, Any]) -> list[str]:
    return [button["payload"] for button in message.get("buttons") or []]


def slots_set(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The slots an action set (the last value wins)."""
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def assert_responses_exist(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    """Every response an action uttered exists in the domain, with a variant for each language."""
    for name in responses_of(dispatcher):
        if name is None:
            continue
        assert name in domain["responses"], f"{name} is not in bot/domain"
        languages = {
            condition["value"]
            for variant in domain["responses"][name]
            for condition in variant.get("condition") or []
            if condition.get("name") == "language"
        }
        assert {"fr", "ar", "ary", "ary_latn"} <= languages, f"{name} lacks a language variant"


# --------------------------------------------------------------------------------------- backend
Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeBackend:
    """The backend's /api/v1 as canned answers behind an httpx.MockTransport.

    Paths are given without the /api/v1 prefix. A route may be a fixed answer (`json`, `status`)
    or a `handler(request) -> httpx.Response`. Unknown routes answer 404 like FastAPI.
    `down = True` makes every call fail to connect; `status=503` answers a server error.
    """

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    down: bool = False

    def on(self, method: str, path: str, *, json: Any = None, status: int = 200,
           handler: Handler | None = None) -> None:
        def fixed(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, json=json) if json is not None else httpx.Response(status)

        self.routes[(method.upper(), path)] = handler or fixed

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("backend down (test)", request=request)
        path = request.url.path.removeprefix("/api/v1")
        route = self.routes.get((request.method, path))
        if route is None:
            return httpx.Response(404, json={"detail": "Not Found"})
        return route(request)

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        """The requests received, optionally only those of one method and path."""
        return [
            r for r in self.requests
            if (method is None or r.method == method.upper())
            and (path is None or r.url.path.removeprefix("/api/v1") == path)
        ]

    @staticmethod
    def body(request: httpx.Request) -> Any:
        return json.loads(request.content) if request.content else None


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    """The actions' backend client, talking to a FakeBackend for the duration of the test."""
    fake = FakeBackend()
    set_client(BackendClient(BACKEND_URL, SERVICE_TOKEN, transport=httpx.MockTransport(fake.handle)))
    yield fake
    set_client(None)


@pytest_asyncio.fixture(autouse=True)
async def reports_finish() -> AsyncIterator[None]:
    """Funnel reports go out in the background (actions/analytics.py): a test's reports are sent
    or dropped before its event loop closes. A test reading them awaits `reports_sent()` first."""
    yield
    await reports_sent()
