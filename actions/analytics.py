"""The start of each conversation, reported to the backend for the steering funnel
(conversations → eligibility checks → bookings → attended), then the session started exactly
as Rasa's default `action_session_start` does.

Only codes leave the action server: the channel and the conversation's language. Never the
sender id, the phone number or the profile name that the channels put in the metadata. A
backend that is down or slow costs the funnel one count, never the person their conversation.
Nobody waits for a report either: it is sent in the background, after the answer (the first
answer of a conversation waited for this POST; under load it was its slowest part).

Rasa runs this action before it reads the first message of a session: on a new conversation
the channel comes from the message metadata the channels send (`session_started_metadata`), and
the language is known only if the conversation set it before (a returning person) or the web
page said which language it shows.

Other steps are reported with `report(tracker, kind, ...)`: e.g. the eligibility result action
calls `report(tracker, "eligibility_checked", place=city, segment=stage)` once per check
(the backend's POST /eligibility is called several times per check, to choose the questions,
so counting its calls would inflate the funnel).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import get_client
from actions.language import language_of

logger = logging.getLogger(__name__)

LANGUAGES = ("fr", "ar", "ary", "ary_latn")
# The `program` codes POST /events accepts (the contract's programme entity values); any other
# value is not reported.
CONTRACT_PROGRAMS = frozenset({"generation_entrepreneurs", "ana_moukawil", "forsa", "intelaka", "auto_entrepreneur",
                               "indh", "awrach", "tahfiz", "idmaj", "taehil"})
METADATA_SLOT = "session_started_metadata"
# A report that takes longer is dropped (a backend that hangs would otherwise pile them up).
REPORT_TIMEOUT_SECONDS = 1.5
# Reports on their way; held here because the event loop keeps only weak references to tasks.
_PENDING: set[asyncio.Task[None]] = set()


def conversation_channel(tracker: Tracker) -> str | None:
    """whatsapp or web; None when the conversation comes through another channel (REST tests)."""
    name = (tracker.get_latest_input_channel() or "").lower()
    if "whatsapp" in name or "twilio" in name:
        return "whatsapp"
    if name == "socketio":
        return "web"
    metadata = tracker.get_slot(METADATA_SLOT) or {}
    declared = metadata.get("channel") if isinstance(metadata, dict) else None
    if declared in ("whatsapp", "web"):
        return str(declared)
    if tracker.sender_id.lower().startswith("whatsapp:"):
        return "whatsapp"
    return None


def conversation_language(tracker: Tracker) -> str | None:
    """The language the conversation was set to, or the web page's; None before anyone said.

    The slot's initial value (fr) is not information, so only a value the conversation set counts."""
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "language" and event.get("value") in LANGUAGES:
            return str(event["value"])
    metadata = tracker.get_slot(METADATA_SLOT) or {}
    page = metadata.get("page_language") if isinstance(metadata, dict) else None
    return str(page) if page in LANGUAGES else None


def report(tracker: Tracker, kind: str, **fields: str | None) -> None:
    """Report one step of the conversation (eligibility_checked, handoff_requested...) with its
    channel and language, in the background; never raises. `fields`: place, region, agency_id,
    segment, program (codes only, never a name or a number)."""
    if fields.get("program") not in CONTRACT_PROGRAMS:
        fields.pop("program", None)
    # Mid-conversation the language slot is the language the person is answered in; a
    # conversation that is not on WhatsApp is on the web (as handoff.channel_of says).
    _send_soon(kind, channel=conversation_channel(tracker) or "web", language=language_of(tracker),
               **{k: v for k, v in fields.items() if v})


def _send_soon(kind: str, **fields: str | None) -> None:
    task = asyncio.get_running_loop().create_task(_send(kind, **fields))
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


async def reports_sent() -> None:
    """Wait until every report started so far is sent or dropped (tests, shutdown)."""
    while _PENDING:
        await asyncio.gather(*_PENDING)


async def _send(kind: str, **fields: str | None) -> None:
    try:
        await asyncio.wait_for(get_client().record_event(kind, **fields), timeout=REPORT_TIMEOUT_SECONDS)
    except Exception as error:  # whatever went wrong, the conversation goes on
        logger.warning("%s not recorded: %s", kind, error)


def session_start_events(tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """What Rasa's own action_session_start returns: the session start, the slots carried over
    when the domain says so, then listening."""
    events: list[EventType] = [SessionStarted()]
    config: dict[str, Any] = domain.get("session_config") or {}
    if config.get("carry_over_slots_to_new_session", True):
        events += [SlotSet(event["name"], event.get("value")) for event in tracker.applied_events()
                   if event.get("event") == "slot"]
    events.append(ActionExecuted("action_listen"))
    return events


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _send_soon("conversation_started", channel=conversation_channel(tracker),
                   language=conversation_language(tracker))
        return session_start_events(tracker, domain)
