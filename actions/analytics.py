"""The start of each conversation, reported to the backend for the steering funnel
(conversations → eligibility checks → bookings → attended), then the session started exactly
as Rasa's default `action_session_start` does.

Only codes leave the action server: the channel and the conversation's language. Never the
sender id, the phone number or the profile name that the channels put in the metadata. A
backend that is down or slow costs the funnel one count, never the person their conversation.

Rasa runs this action before it reads the first message of a session: on a new conversation
the channel comes from the message metadata the channels send (`session_started_metadata`), and
the language is known only if the conversation set it before (a returning person) or the web
page said which language it shows.

Other steps are reported with `report(tracker, kind, ...)`: e.g. the eligibility result action
calls `await report(tracker, "eligibility_checked", place=city, segment=stage)` once per check
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

logger = logging.getLogger(__name__)

LANGUAGES = ("fr", "ar", "ary", "ary_latn")
METADATA_SLOT = "session_started_metadata"
# The person is waiting for the first answer: the report gets this long, then is dropped.
REPORT_TIMEOUT_SECONDS = 1.5


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


async def report(tracker: Tracker, kind: str, **fields: str | None) -> None:
    """Report one step of the conversation (eligibility_checked, booking_started...) with its
    channel and language; never raises. `fields`: place, region, agency_id, segment, program."""
    try:
        await asyncio.wait_for(get_client().record_event(kind, channel=conversation_channel(tracker),
                                                         language=conversation_language(tracker), **fields),
                               timeout=REPORT_TIMEOUT_SECONDS)
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
        await report(tracker, "conversation_started")
        return session_start_events(tracker, domain)
