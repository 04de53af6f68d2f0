"""action_session_start: reports the conversation's start (channel and language, nothing
personal) to the backend, then starts the session as Rasa's default does, whatever the backend."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import analytics
from actions.analytics import ActionSessionStart, report, reports_sent
from tests.actions.conftest import FakeBackend, slot_event, tracker_from_json, user_event

DOMAIN = {"session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}}
WHATSAPP_METADATA = {"channel": "whatsapp", "phone": "+212612345678", "profile_name": "Salma",
                     "wa_id": "212612345678"}


def tracker(events: list[dict[str, Any]], *, sender_id: str = "abc123", slots: dict[str, Any] | None = None) -> Any:
    return tracker_from_json({"sender_id": sender_id, "slots": {"language": "fr", **(slots or {})},
                              "latest_message": {}, "events": events, "paused": False, "followup_action": None,
                              "active_loop": {}, "latest_action_name": None})


async def run(state: Any, domain: dict[str, Any] = DOMAIN) -> list[dict[str, Any]]:
    return await ActionSessionStart().run(CollectingDispatcher(), state, domain)


def steps(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] if e["event"] == "action" else e["event"] for e in events]


async def reported(backend: FakeBackend) -> list[Any]:
    """What reached the backend's /events, once the reports on their way are sent."""
    await reports_sent()
    return [FakeBackend.body(r) for r in backend.calls("POST", "/events")]


@pytest.mark.asyncio
async def test_a_new_whatsapp_conversation_is_reported_without_the_person(backend: FakeBackend) -> None:
    backend.on("POST", "/events", status=201, json={"id": 1})
    metadata = slot_event("session_started_metadata", WHATSAPP_METADATA)
    events = await run(tracker([metadata], sender_id="whatsapp:+212612345678",
                         slots={"session_started_metadata": WHATSAPP_METADATA}))
    assert await reported(backend) == [{"kind": "conversation_started", "channel": "whatsapp"}]
    sent = backend.calls("POST", "/events")[0].content.decode()
    assert "612345678" not in sent and "Salma" not in sent
    assert steps(events) == ["session_started", "slot", "action_listen"]
    assert events[1]["name"] == "session_started_metadata" and events[1]["value"] == WHATSAPP_METADATA


@pytest.mark.asyncio
async def test_a_returning_web_visitor_is_reported_with_their_language_and_keeps_their_slots(
        backend: FakeBackend) -> None:
    backend.on("POST", "/events", status=201, json={"id": 2})
    history = [
        user_event("salam", intent="greet", channel="socketio"),
        slot_event("language", "ary_latn"),
        slot_event("city", "Tanger"),
    ]
    events = await run(tracker(history, slots={"language": "ary_latn", "city": "Tanger"}))
    assert await reported(backend) == [{"kind": "conversation_started", "channel": "web", "language": "ary_latn"}]
    assert [(e["event"], e.get("name"), e.get("value")) for e in events] == [
        ("session_started", None, None), ("slot", "language", "ary_latn"), ("slot", "city", "Tanger"),
        ("action", "action_listen", None)]


@pytest.mark.asyncio
async def test_the_web_pages_language_stands_in_until_the_conversation_sets_one(backend: FakeBackend) -> None:
    backend.on("POST", "/events", status=201, json={"id": 3})
    metadata = {"channel": "web", "page_language": "ar"}
    await run(tracker([slot_event("session_started_metadata", metadata)],
                      slots={"session_started_metadata": metadata}))
    assert await reported(backend) == [{"kind": "conversation_started", "channel": "web", "language": "ar"}]


@pytest.mark.asyncio
async def test_an_unknown_channel_and_language_are_left_out(backend: FakeBackend) -> None:
    backend.on("POST", "/events", status=201, json={"id": 4})
    await run(tracker([user_event("bonjour", intent="greet", channel="rest")]))
    assert await reported(backend) == [{"kind": "conversation_started"}]


@pytest.mark.asyncio
async def test_slots_are_not_carried_over_when_the_domain_says_so(backend: FakeBackend) -> None:
    backend.on("POST", "/events", status=201, json={"id": 5})
    domain = {"session_config": {"carry_over_slots_to_new_session": False}}
    events = await run(tracker([slot_event("language", "ar")], slots={"language": "ar"}), domain)
    assert steps(events) == ["session_started", "action_listen"]


@pytest.mark.asyncio
@pytest.mark.parametrize("failure", ["down", "server_error", "refused"])
async def test_the_session_starts_whatever_the_backend_does(backend: FakeBackend, failure: str) -> None:
    if failure == "down":
        backend.down = True
    else:
        backend.on("POST", "/events", status=503 if failure == "server_error" else 422, json={"detail": "no"})
    events = await run(tracker([]))
    assert steps(events) == ["session_started", "action_listen"]
    await reports_sent()
    assert len(backend.calls("POST", "/events")) == 1


@pytest.mark.asyncio
async def test_the_first_answer_does_not_wait_for_the_report(backend: FakeBackend) -> None:
    sent = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await sent.wait()
        return httpx.Response(201, json={"id": 6})

    backend.on("POST", "/events", handler=slow)  # type: ignore[arg-type]
    events = await run(tracker([]))  # returns while the backend has not answered
    assert steps(events) == ["session_started", "action_listen"]
    sent.set()
    assert await reported(backend) == [{"kind": "conversation_started"}]


@pytest.mark.asyncio
async def test_a_report_the_backend_does_not_answer_is_dropped(backend: FakeBackend,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(analytics, "REPORT_TIMEOUT_SECONDS", 0.05)

    async def hung(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        return httpx.Response(201, json={"id": 6})

    backend.on("POST", "/events", handler=hung)  # type: ignore[arg-type]
    started = asyncio.get_running_loop().time()
    await run(tracker([]))
    await reports_sent()
    assert asyncio.get_running_loop().time() - started < 1
    assert "conversation_started not recorded" in caplog.text


@pytest.mark.asyncio
async def test_a_step_of_the_conversation_is_reported_with_its_channel_and_language(backend: FakeBackend) -> None:
    backend.on("POST", "/events", status=201, json={"id": 7})
    state = tracker([user_event("wach n9der nstafed mn forsa", intent="check_eligibility", channel="whatsapp"),
                     slot_event("language", "ary_latn")], sender_id="whatsapp:+212612345678",
                    slots={"language": "ary_latn"})
    report(state, "eligibility_checked", place="tanja", segment="idea", program=None)
    assert await reported(backend) == [{"kind": "eligibility_checked", "channel": "whatsapp",
                                        "language": "ary_latn", "place": "tanja", "segment": "idea"}]
    backend.down = True
    report(state, "eligibility_checked")  # never raises
    await reports_sent()
