"""Rasa's command line, with fixes to Rasa 3.6 applied first: `python -m bot.launcher run ...`.

scripts/serve.sh starts the Rasa server through this module, so `make run`, the end-to-end tests,
the benchmark and the Docker image all serve with it.

The fix: Rasa 3.6 checks every action server reply with `jsonschema.validate`, which first
validates the *schema itself* against the draft 2020-12 meta-schema, on every call. Profiled
under load (bench/rasa_bench.py, py-spy), that check was more than half of the server's CPU time:
each custom action cost tens of milliseconds before its events were even read. Here the schema
is checked once and its validator reused; the reply is validated exactly as before and a bad
reply raises the same `ValidationError` with the same message.

More, for the same profile's next costs, each doing exactly what Rasa's code does, faster:
- every parse and every action prediction runs part of the model's graph through dask's local
  scheduler, which rebuilds, orders and schedules the task graph on each run (~15% of the CPU
  for graphs of a dozen nodes run one after the other anyway): the runner here computes each
  target's order once and calls the same nodes in it, with the same inputs and results;
- a tracker is rebuilt many times per message (loaded from the tracker store, then once per
  policy per prediction to list its past states), and each time every slot is copied with
  `copy.copy`, whose generic path was ~8% of the CPU: `Slot.__copy__` makes the same shallow
  copy directly;
- each stored event is turned back into its class by scanning every subclass of `Event`
  (~5%): the first match of each type name is remembered;
- each parsed message checks that the domain is not empty by building an empty domain to compare
  with (~3%): the empty domain's contents are built once;
- each policy, at each prediction, replays the whole conversation to list its past states (4
  replays per message, so a message's cost grew with its conversation's length: 42% of the CPU
  at 160 messages): the replay is kept on the tracker and resumed (bot/past_states.py);
- each call to the action server opens a new HTTP session, so a new TCP connection (~12% of the
  CPU of a conversation's first message, whose action_session_start runs there): the session of
  an endpoint is kept and its connections reused (`_kept_session`).

And one addition: with the selective domain our endpoints enable, a call carries no domain (the
action server holds it, actions/domain.py) but the digest of Rasa's, so that a model trained from
other files than the action server's is logged there instead of served with the wrong texts.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from types import TracebackType
from typing import Any

import aiohttp
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from actions.domain import DIGEST_KEY, domain_digest
from bot.past_states import states_for_tracker_history


@functools.lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    """The validator of an action server reply, built (and its schema checked) once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _action_result_validator().validate(result)
        return True
    except ValidationError as error:
        # Rasa's own wording (rasa/core/actions/action.py), so logs read the same.
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


_RASA_ACTION_CALL_FORMAT = RemoteAction._action_call_format


def _action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """Rasa's action call; without the domain (selective domain), with its digest instead."""
    call = _RASA_ACTION_CALL_FORMAT(self, tracker, domain)
    if "domain" not in call:
        # A served model's domain never changes: its digest is computed once.
        digest = domain.__dict__.get("_ge_digest")
        if digest is None:
            digest = domain.__dict__["_ge_digest"] = domain_digest(domain.as_dict())
        call[DIGEST_KEY] = digest
    return call


def _copy_slot(self: Slot) -> Slot:
    """What `copy.copy` does for a slot (a new instance sharing the attribute values)."""
    new = self.__class__.__new__(self.__class__)
    new.__dict__.update(self.__dict__)
    return new


@functools.lru_cache(maxsize=1)
def _empty_domain_data() -> dict[str, Any]:
    """The contents of an empty domain (private: never handed out, so never changed)."""
    return Domain.empty().as_dict()


def _domain_is_empty(self: Domain) -> bool:
    """Domain.is_empty: the same comparison, with the empty domain's contents built once."""
    return bool(self.as_dict() == _empty_domain_data())


# Idle connections are closed after this long: before the action server (Sanic, 5 s keep-alive)
# closes them, so that a call never goes out on a connection the server is closing.
KEEPALIVE_SECONDS = 2.0


class _KeptSession:
    """What `async with endpoint.session() as session` gets: the endpoint's kept session, left
    open on exit."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        return None


def _kept_session(self: EndpointConfig) -> _KeptSession:
    """EndpointConfig.session: Rasa's session (same headers, auth and timeout), made once per
    endpoint and event loop, with a connector that keeps connections open between calls."""
    loop = asyncio.get_running_loop()
    kept = self.__dict__.get("_ge_session")
    if kept is None or kept[0] is not loop or kept[1].closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(headers=self.headers, auth=auth,
                                        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS))
        kept = self.__dict__["_ge_session"] = (loop, session)
    return _KeptSession(kept[1])


_RASA_RESOLVE_BY_TYPE = Event.resolve_by_type
_EVENT_CLASSES: dict[str, type[Event]] = {}


def _resolve_event_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Event.resolve_by_type, with the first class of each type name remembered."""
    if not _EVENT_CLASSES:
        for cls in all_subclasses(Event):
            _EVENT_CLASSES.setdefault(cls.type_name, cls)
    found = _EVENT_CLASSES.get(type_name)
    # Unknown names (an event class imported later, "topic", a default) take Rasa's own path.
    return found if found is not None else _RASA_RESOLVE_BY_TYPE(type_name, default)


def execution_order(schema: GraphSchema, targets: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """The nodes the targets depend on, each after what it needs, with the names it needs."""
    minimal = schema.minimal_graph_schema(list(targets))
    order: list[tuple[str, list[str]]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in minimal.nodes:
            return  # done, or an input placeholder
        seen.add(name)
        needs = list(minimal.nodes[name].needs.values())
        for need in needs:
            visit(need)
        order.append((name, needs))

    for target in targets:
        visit(target)
    return order


def _run_graph(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
               targets: list[str] | None = None) -> dict[str, Any]:
    """DaskGraphRunner.run without dask: the same nodes, called in dependency order."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    plans = self.__dict__.setdefault("_ge_plans", {})
    order = plans.get(run_targets)
    if order is None:
        order = plans[run_targets] = execution_order(self._graph_schema, run_targets)
    # What dask hands a node: (name, output) of each node or input it needs; the bare name of
    # one nobody provided (GraphNode then warns, or fails if it needed it).
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and (value in self._graph_schema.nodes or value in inputs):
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names passed "
                f"to the `run` method are the same as node names in the graph schema."
            )
        values[name] = (name, value)
    try:
        for name, needs in order:
            if name not in values:  # as in Rasa's runner, an input of a node's name replaces it
                values[name] = self._instantiated_nodes[name](*(values.get(need, need) for need in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(values[target] for target in run_targets)


def apply_fixes() -> None:
    """Install the fixes on Rasa's classes (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]
    Domain.is_empty = _domain_is_empty  # type: ignore[method-assign]
    Slot.__copy__ = _copy_slot  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(_resolve_event_by_type)  # type: ignore[method-assign]
    DaskGraphRunner.run = _run_graph  # type: ignore[method-assign]
    EndpointConfig.session = _kept_session  # type: ignore[assignment]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
