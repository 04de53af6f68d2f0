"""bot/launcher.py's fixes do exactly what Rasa's code does: same parses, same predictions, same
slot copies, same event classes, same empty-domain check, same validation of action server
replies; and action calls carry the domain's digest where Rasa would send the domain."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.slots import CategoricalSlot, TextSlot
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from actions.domain import DIGEST_KEY, domain_digest, served_domain
from bot import launcher

ROOT = Path(__file__).resolve().parents[2]
RASA_RUN = DaskGraphRunner.run
RASA_RESOLVE = Event.resolve_by_type
RASA_IS_EMPTY = Domain.is_empty
RASA_SESSION = EndpointConfig.session

CONVERSATION = ["bonjour", "vous êtes un robot ?", "السلام", "bghit nakhod rdv f casa", "stop", "merci", "bslama"]


@pytest.fixture(scope="module")
def agent(model: Path) -> Agent:
    return Agent.load(str(model))


def _strip_times(value: Any) -> Any:
    """Results without the timestamps events carry."""
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def test_the_graph_runs_as_with_dask(agent: Agent) -> None:
    processor = agent.processor
    runner = processor.graph_runner
    tracker = asyncio.run(processor.fetch_tracker_and_update_session("launcher-test"))
    compared = 0
    for text in CONVERSATION:
        message = UserMessage(text, sender_id="launcher-test")
        # Understanding: the NLU target, run by both runners on the same message and tracker.
        inputs = {PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}
        nlu_target = [processor.model_metadata.nlu_target]
        ours = launcher._run_graph(runner, inputs, nlu_target)
        theirs = RASA_RUN(runner, inputs, nlu_target)
        assert ours.keys() == theirs.keys()
        parsed = [m.as_dict() for m in ours[nlu_target[0]]]
        assert parsed == [m.as_dict() for m in theirs[nlu_target[0]]]
        assert parsed[0]["intent"]["name"], parsed  # the message was really understood
        # Then the conversation goes on, and the next action is predicted by both.
        asyncio.run(processor._handle_message_with_tracker(message, tracker))
        core_target = [processor.model_metadata.core_target]
        ours = launcher._run_graph(runner, {PLACEHOLDER_TRACKER: tracker}, core_target)
        theirs = RASA_RUN(runner, {PLACEHOLDER_TRACKER: tracker}, core_target)
        ours_prediction, theirs_prediction = ours[core_target[0]], theirs[core_target[0]]
        assert ours_prediction.probabilities == theirs_prediction.probabilities
        assert ours_prediction.policy_name == theirs_prediction.policy_name
        assert _strip_times([e.as_dict() for e in ours_prediction.events]) == _strip_times(
            [e.as_dict() for e in theirs_prediction.events])
        compared += 2
    assert compared == 2 * len(CONVERSATION)


def test_the_execution_order_puts_every_node_after_what_it_needs(agent: Agent) -> None:
    runner = agent.processor.graph_runner
    schema = runner._graph_schema
    for target in schema.target_names:
        order = launcher.execution_order(schema, (target,))
        position = {name: i for i, (name, _) in enumerate(order)}
        assert order[-1][0] == target
        for name, needs in order:
            assert all(position[need] < position[name] for need in needs if need in schema.nodes), (target, name)
        assert set(position) == set(schema.minimal_graph_schema([target]).nodes)


def test_a_slot_copy_is_copy_copys_copy() -> None:
    launcher.apply_fixes()
    for slot in (TextSlot("name", mappings=[{}], initial_value="x"),
                 CategoricalSlot("language", mappings=[{}], values=["fr", "ar"], initial_value="fr")):
        slot.value = slot.value
        copied = copy.copy(slot)
        assert type(copied) is type(slot) and copied is not slot
        assert copied.__dict__ == slot.__dict__
        copied.value = None
        assert slot.value is not None  # a copy, not the same slot


def test_event_classes_resolve_as_rasa_resolves_them() -> None:
    launcher.apply_fixes()
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 15
    for name in names:
        assert Event.resolve_by_type(name) is RASA_RESOLVE(name)
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_action_server_replies_are_validated_as_before() -> None:
    action = RemoteAction("action_x", None)
    good = {"events": [{"event": "slot", "name": "city", "value": "casablanca"}], "responses": [{"text": "ok"}]}
    assert launcher._validate_action_result(action, good)
    bad = {"events": [{"name": "city"}], "responses": []}  # an event without its type
    with pytest.raises(ValidationError) as error:
        launcher._validate_action_result(action, bad)
    assert "Failed to validate Action server response" in error.value.message
    # Rasa's own check agrees on both.
    validate(good, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError):
        validate(bad, RemoteAction.action_response_format_spec())


def test_an_empty_domain_is_recognised_as_rasa_recognises_it(agent: Agent) -> None:
    launcher.apply_fixes()
    assert Domain.empty().is_empty() and RASA_IS_EMPTY(Domain.empty())
    assert not agent.domain.is_empty() and not RASA_IS_EMPTY(agent.domain)
    tiny = Domain.from_dict({"intents": ["greet"]})
    assert tiny.is_empty() is RASA_IS_EMPTY(tiny) is False


def test_action_calls_carry_the_domains_digest_instead_of_the_domain(agent: Agent) -> None:
    launcher.apply_fixes()
    tracker = asyncio.run(agent.processor.fetch_tracker_and_update_session("launcher-digest"))
    domain = agent.domain
    # As our endpoints configure it: no domain, and the digest the action server compares.
    selective = RemoteAction("action_session_start", EndpointConfig("http://actions", enable_selective_domain=True))
    call = selective._action_call_format(tracker, domain)
    assert "domain" not in call
    assert call[DIGEST_KEY] == domain_digest(domain.as_dict())
    # The model was trained from the files the action server serves: the digests agree.
    assert call[DIGEST_KEY] == served_domain()[1]
    # Without the selective domain, Rasa's call as before: the whole domain, no digest.
    full = RemoteAction("action_session_start", EndpointConfig("http://actions"))._action_call_format(tracker, domain)
    assert full["domain"] == domain.as_dict() and DIGEST_KEY not in full
    assert {k: v for k, v in call.items() if k != DIGEST_KEY} == {k: v for k, v in full.items() if k != "domain"}


def test_our_endpoints_enable_the_selective_domain() -> None:
    for name in ("endpoints.yml", "endpoints.compose.yml"):
        endpoints = yaml.safe_load((ROOT / "bot" / name).read_text())
        assert endpoints["action_endpoint"]["enable_selective_domain"] is True, name


async def _calls_through(endpoint: EndpointConfig, count: int) -> tuple[list[Any], list[int]]:
    """`count` calls of `endpoint.request` to a local server that answers with the client's port
    and the headers it received: the answers, and the client ports the server saw."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return web.json_response({"port": peer[1] if peer else None, "body": await request.json(),
                                  "header": request.headers.get("X-Test"), "token": request.query.get("token")})

    app = web.Application()
    app.router.add_post("/webhook", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint.url = f"http://127.0.0.1:{port}/webhook"
    try:
        answers = [await endpoint.request(json={"call": i}) for i in range(count)]
    finally:
        kept = endpoint.__dict__.get("_ge_session")
        if kept:  # as when the server stops
            await kept[1].close()
        await runner.cleanup()
    return answers, [a["port"] for a in answers]


def test_action_calls_reuse_one_connection_with_rasas_settings() -> None:
    def endpoint() -> EndpointConfig:
        return EndpointConfig(headers={"X-Test": "yes"}, token="secret")

    launcher.apply_fixes()
    answers, ports = asyncio.run(_calls_through(endpoint(), 3))
    assert len(set(ports)) == 1  # one connection, kept between calls
    # The same request as Rasa's: body, headers and token as before.
    assert [a["body"] for a in answers] == [{"call": 0}, {"call": 1}, {"call": 2}]
    assert all(a["header"] == "yes" and a["token"] == "secret" for a in answers)
    # Rasa's own session opens a connection per call: what the fix removes.
    try:
        EndpointConfig.session = RASA_SESSION  # type: ignore[method-assign]
        _, rasa_ports = asyncio.run(_calls_through(endpoint(), 3))
    finally:
        launcher.apply_fixes()
    assert len(set(rasa_ports)) == 3
