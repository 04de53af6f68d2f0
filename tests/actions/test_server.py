"""actions/server.py: rasa-sdk's executor, run as the action server runs it, hands the actions the
served domain when Rasa's call carries none."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from rasa_sdk import Action, Tracker, endpoint
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions import server
from actions.analytics import report
from actions.domain import served_domain
from tests.actions.conftest import FakeBackend, make_tracker


class _Probe(Action):
    """Says what domain it was given: how many responses, and one of its texts."""

    def name(self) -> str:
        return "action_test_domain_probe"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
        responses = domain.get("responses") or {}
        dispatcher.utter_message(text=f"{len(responses)}|{(responses.get('utter_greet') or [{}])[0].get('text')}")
        return []


def _run(executor: ActionExecutor, call: dict[str, Any]) -> str:
    result = asyncio.run(executor.run(call))  # type: ignore[arg-type]
    assert result is not None
    return str(result["responses"][0]["text"])


def test_the_executor_hands_the_served_domain_when_rasa_sends_none() -> None:
    server.apply()
    server.apply()  # idempotent: rasa-sdk imports the module a second time
    executor = ActionExecutor()
    executor.register_action(_Probe())
    tracker = make_tracker(text="bonjour", intent="greet").current_state()
    call = {"next_action": "action_test_domain_probe", "sender_id": "u1", "tracker": tracker, "version": "3.6.21"}
    domain = served_domain()[0]
    expected = f"{len(domain['responses'])}|{domain['responses']['utter_greet'][0].get('text')}"
    assert len(domain["responses"]) > 100
    assert _run(executor, call) == expected
    # Rasa's own domain, when it sends one, is what the action sees.
    mine = {"responses": {"utter_greet": [{"text": "hi"}]}}
    assert _run(executor, {**call, "domain": mine}) == "1|hi"


@pytest.mark.asyncio
async def test_on_shutdown_the_server_sends_the_reports_still_on_their_way(backend: FakeBackend) -> None:
    server.apply()
    app = endpoint.create_app("actions.privacy")
    app.signal_router.finalize()  # as Sanic does when it starts serving
    answer = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await answer.wait()
        return httpx.Response(201, json={"id": 1})

    backend.on("POST", "/events", handler=slow)  # type: ignore[arg-type]
    report(make_tracker(text="bonjour", intent="greet"), "conversation_started")
    # What Sanic's runner runs when the server is told to stop.
    stopping = asyncio.ensure_future(app._server_event("shutdown", "before", loop=asyncio.get_running_loop()))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # the server waits for the report...
    answer.set()
    await stopping  # ... which then reaches the backend
    assert FakeBackend.body(backend.calls("POST", "/events")[0])["kind"] == "conversation_started"
