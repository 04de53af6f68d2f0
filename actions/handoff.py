"""Human handoff: a callback request for an adviser, and complaints.

`ask_human` runs handoff_form (it asks only what is missing: the phone on the web, the place when
no agency is known), then action_submit_handoff posts the request with a summary built from the
tracker. The helpers here (phone numbers, channel, shared location) are shared with the other
features (privacy, agencies, booking).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.analytics import report
from actions.backend import BackendRejected, BackendUnavailable, get_client
from actions.language import language_of

Channel = Literal["web", "whatsapp"]
logger = logging.getLogger(__name__)

# Eastern Arabic and Persian digits, as typed on Arabic keyboards.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"[\s.\-()/\u200e\u200f]")
_PHONE_IN_TEXT = re.compile(r"(?:\+|00)?[0-9٠-٩۰-۹][0-9٠-٩۰-۹\s.\-()/]{7,18}[0-9٠-٩۰-۹]")
# Intents with which a reply can be an answer to "your phone?" / "your city?"; any other intent
# is a digression (a question, "stop") that the form leaves to the rules.
ANSWER_INTENTS = {"inform", "nlu_fallback", "affirm", "out_of_scope"}
MAX_SUMMARY = 4000


def normalize_phone(raw: str | None) -> str | None:
    """A Moroccan mobile number (06…, 07…, +212…, 00212…, whatsapp:+212…) in E.164, or None.

    The same rules as the backend's `normalize_phone`, so that what the bot accepts the backend
    accepts too.
    """
    if not raw:
        return None
    text = raw.strip().translate(_DIGITS)
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:"):]
    international = text.startswith("+")
    digits = _SEPARATORS.sub("", text[1:] if international else text)
    if not digits.isdigit():
        return None
    if international or digits.startswith("00"):
        digits = digits.removeprefix("00")
        if not digits.startswith("212"):
            return None
        national = digits[3:]
        national = national[1:] if len(national) == 10 and national.startswith("0") else national
    elif digits.startswith("212") and len(digits) == 12:
        national = digits[3:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    if len(national) != 9 or national[0] not in "67":
        return None
    return f"+212{national}"


def find_phone(text: str | None) -> str | None:
    """The first Moroccan mobile number written in a message ("c'est le 06 12 34 56 78")."""
    for match in _PHONE_IN_TEXT.finditer(text or ""):
        phone = normalize_phone(match.group())
        if phone:
            return phone
    return None


# How people say their name (a longer form before a shorter one it starts with): "my name is"
# (these alone say a name follows), then "c'est", "ana" (which may introduce a place, "ana f casa").
NAME_IS = ("je m'appelle", "je m appelle", "mon nom est", "mon nom c'est", "my name is", "ana smiti", "ana smiyti",
           "ana ismi", "ana esmi", "انا اسمي", "أنا اسمي", "انا سميتي", "smiti", "smiyti", "ismi", "esmi", "اسمي",
           "إسمي", "سميتي", "nom :", "nom:")
NAME_INTROS = (*NAME_IS, "moi c'est", "c'est", "nom", "i am", "ana", "أنا", "انا")
_NOT_A_NAME = ("non", "no", "la", "لا", "oui", "ok", "wakha", "نعم", "ah")


def _without(prefixes: tuple[str, ...], text: str) -> tuple[str, bool]:
    """The text without the first of `prefixes` it starts with, and whether it had one."""
    lowered = text.lower()
    for prefix in prefixes:
        if lowered.startswith(prefix + " ") or lowered == prefix:
            return text[len(prefix):].strip(" :"), True
    return text, False


def clean_name(value: Any) -> str | None:
    """A person's name from a reply ("smiti Youssef Alami", "je m'appelle Salma"), or None."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace(",", " ").split())
    if find_phone(text):
        text = " ".join(w for w in text.split() if not any(c.isdigit() for c in w))
    text, _ = _without(NAME_INTROS, text)
    words = text.split()
    letters = sum(c.isalpha() for c in text)
    if words and words[0].lower().strip(",.!") in _NOT_A_NAME:
        return None
    if not words or len(words) > 6 or letters < 2 or any(c.isdigit() for c in text) or len(text) > 100:
        return None
    return " ".join(w[:1].upper() + w[1:] if w[:1].isalpha() and w.isascii() else w for w in words)


def introduced_name(text: str) -> str | None:
    """The name in a message that says it is one ("ana ismi Karim", "je m'appelle Salma"), else None."""
    rest, said = _without(NAME_IS, " ".join(text.replace(",", " ").split()))
    return clean_name(rest) if said else None


def display_phone(phone: str) -> str:
    """+212612345678 → 06 12 34 56 78, as people write it."""
    national = "0" + phone.removeprefix("+212")
    return " ".join([national[:2], *(national[i:i + 2] for i in range(2, len(national), 2))])


def channel_of(tracker: Tracker) -> Channel:
    """whatsapp when the conversation comes through the WhatsApp (Twilio) channel, else web."""
    name = (tracker.get_latest_input_channel() or "").lower()
    if "whatsapp" in name or "twilio" in name or tracker.sender_id.lower().startswith("whatsapp:"):
        return "whatsapp"
    return "web"


def sender_phone(tracker: Tracker) -> str | None:
    """On WhatsApp the sender id is the person's number, checked by the channel; elsewhere None."""
    return normalize_phone(tracker.sender_id) if channel_of(tracker) == "whatsapp" else None


def session_events(tracker: Tracker) -> list[dict[str, Any]]:
    """The events of the conversation's current session (after its latest `session_started`).

    Rasa's SQL tracker store sends only these; its in-memory store sends every session."""
    events = tracker.events
    start = max((i for i, e in enumerate(events) if e.get("event") == "session_started"), default=-1)
    return events[start + 1:]


def known_phone(tracker: Tracker) -> str | None:
    """The person's number: the WhatsApp sender, else the one given in this conversation."""
    return sender_phone(tracker) or normalize_phone(tracker.get_slot("phone"))


def shared_location(tracker: Tracker) -> tuple[float, float] | None:
    """Coordinates the person shared: the /share_location payload's, else the message metadata's."""
    values: dict[str, Any] = {}
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") in ("lat", "lon"):
            values[entity["entity"]] = entity.get("value")
    if not {"lat", "lon"} <= values.keys():
        metadata = _latest_metadata(tracker)
        location = metadata.get("location") if isinstance(metadata.get("location"), dict) else metadata
        values = {"lat": location.get("lat"), "lon": location.get("lon")}
    try:
        lat, lon = float(values["lat"]), float(values["lon"])
    except (TypeError, ValueError, KeyError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _latest_metadata(tracker: Tracker) -> dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return tracker.latest_message.get("metadata") or {}


def profile_name(tracker: Tracker) -> str | None:
    """The WhatsApp profile name the channel passes in the message metadata, if any."""
    name = _latest_metadata(tracker).get("profile_name")
    return str(name)[:200] if name else None


def _user_events(tracker: Tracker) -> list[dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def recent_intents(tracker: Tracker, last: int = 6) -> list[str]:
    return [name for name in (_intent(e) for e in _user_events(tracker)[-last:]) if name]


def conversation_summary(tracker: Tracker, *, last_messages: int = 5) -> str:
    """What the adviser needs before calling back: topics, named things, profile, last words.

    Written for agency staff (French labels); the user's messages are quoted as typed.
    """
    events = _user_events(tracker)
    topics: list[str] = []
    for name in (_intent(e) for e in events):
        if name and name not in topics and name not in ("greet", "affirm", "deny", "thank", "inform"):
            topics.append(name)
    entities: list[str] = []
    for event in events:
        for ent in (event.get("parse_data") or {}).get("entities") or []:
            item = f"{ent.get('entity')}={ent.get('value')}"
            if ent.get("entity") != "language" and item not in entities:
                entities.append(item)
    profile = [
        f"{slot}={tracker.get_slot(slot)}"
        for slot in ("program", "stage", "age", "need", "turnover", "city", "service")
        if tracker.get_slot(slot) not in (None, "", [])
    ]
    texts = [e.get("text") or "" for e in events]
    quotes = [f"« {t.strip()[:300]} »" for t in texts if t.strip() and not t.startswith("/")][-last_messages:]
    parts = [f"Langue : {language_of(tracker)}", f"Canal : {channel_of(tracker)}"]
    if topics:
        parts.append("Sujets : " + ", ".join(topics))
    if entities:
        parts.append("Mentions : " + ", ".join(entities))
    if profile:
        parts.append("Profil : " + ", ".join(profile))
    if quotes:
        parts.append("Derniers messages : " + " / ".join(quotes))
    return " | ".join(parts)[:MAX_SUMMARY]


def _answer_text(tracker: Tracker) -> str | None:
    """The latest message when it can be an answer to the form's question, else None."""
    text = (tracker.latest_message.get("text") or "").strip()
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if not text or text.startswith("/"):
        return None
    return text if intent in ANSWER_INTENTS or find_phone(text) else None


class ValidateHandoffForm(FormValidationAction):
    """Asks only what the callback request lacks: a phone (web) and a place (no agency known)."""

    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        needed = []
        if sender_phone(tracker) is None:
            needed.append("phone")
        if not (tracker.get_slot("agency_id") or tracker.get_slot("nearest_agency_id")):
            needed.append("city")
        return needed

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType:
        # Always explicit (rasa-sdk leaves it to Rasa when the list equals the domain's).
        needed = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return SlotSet("requested_slot", next((s for s in needed if tracker.get_slot(s) is None), None))

    async def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "phone":
            return {}
        text = _answer_text(tracker)
        return {"phone": text} if text else {}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = normalize_phone(value) if isinstance(value, str) else None
        phone = phone or (find_phone(value) if isinstance(value, str) else None)
        name = introduced_name(value) if phone is None and isinstance(value, str) else None
        if name:
            # "ana ismi Karim" when asked the number: the adviser will know whom to call; the
            # number is asked again, without "this number is not valid".
            return {"phone": None, "full_name": name}
        if phone is None:
            dispatcher.utter_message(response="utter_handoff_invalid_phone")
        return {"phone": phone}

    async def extract_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "city":
            return {}
        location = shared_location(tracker)
        if location:
            # A location shared on WhatsApp: the place of the nearest agency stands for it.
            try:
                found = await get_client().nearest_agencies(lat=location[0], lon=location[1], limit=1,
                                                            lang=language_of(tracker))
            except (BackendUnavailable, BackendRejected):
                return {}
            agency = found.agencies[0] if found.agencies else None
            return {"city": agency.place_id or agency.city} if agency else {}
        entity = next(tracker.get_latest_entity_values("city"), None)
        if entity:
            return {"city": entity}
        text = _answer_text(tracker)
        return {"city": text} if text else {}

    def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Any place will do: the backend records it as free text and staff route the request.
        place = " ".join(str(value).split())[:200] if value else ""
        return {"city": place or None}


class ActionSubmitHandoff(Action):
    """Records the callback request; nothing is kept if the backend refuses or is down."""

    def name(self) -> str:
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = known_phone(tracker)
        agency_id = tracker.get_slot("agency_id") or tracker.get_slot("nearest_agency_id")
        place = tracker.get_slot("city")
        if phone is None or not (agency_id or place):
            dispatcher.utter_message(response="utter_handoff_rejected")
            return []
        reason = "complaint" if "complaint" in recent_intents(tracker) else "question"
        try:
            await get_client().create_handoff(
                phone=phone,
                channel=channel_of(tracker),
                language=language_of(tracker),
                summary=conversation_summary(tracker),
                reason=reason,
                full_name=tracker.get_slot("full_name") or profile_name(tracker),
                agency_id=agency_id,
                place=place,
            )
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected:
            dispatcher.utter_message(response="utter_handoff_rejected")
            return []
        dispatcher.utter_message(response="utter_handoff_done", phone=display_phone(phone))
        report(tracker, "handoff_requested", agency_id=agency_id, place=None if agency_id else place)
        return []
