"""Booking an appointment with an adviser, and the person's appointments: see, cancel, move.

booking_form asks, in order, only what is still unknown: service → place → agency → time slot →
name → phone (the WhatsApp sender, never asked there) → confirmation; then action_book_appointment
posts it. Every choice is offered as buttons; typed answers are resolved against what was offered
(actions/choices.py). The user can correct an earlier answer at any step ("non, plutôt à Fès",
"la, bdel lmdina", "بدل الوقت"), which clears that answer and those that depend on it, and can
leave with `stop` (a rule of data/rules/booking.yml). appointments_form, cancel_form and
reschedule_form find the person's appointments by phone, let them choose one, confirm, and act.

Validation actions here implement `run` themselves instead of rasa-sdk's extract_/validate_
methods: a turn's meaning depends on several slots at once (a correction clears others, a name may
come with a phone), and the form must get *no* event when the message is not an answer, so that
the rules for `stop` and the digressions take over.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.agencies import shared_location
from actions.backend import (
    Agency,
    Appointment,
    BackendRejected,
    BackendUnavailable,
    FreeSlot,
    get_client,
)
from actions.choices import (
    FIELDS,
    Option,
    change_request,
    format_day,
    format_time,
    means_agency_shown,
    options_from_slot,
    options_to_slot,
    parse_when,
    resolve,
    short_label,
    target_day,
    wants_change,
    wants_later,
)
from actions.eligibility import find_need
from actions.handoff import (
    channel_of,
    clean_name,
    display_phone,
    find_phone,
    normalize_phone,
    sender_phone,
    session_events,
)
from actions.language import LANGUAGES, language_of

TIMEZONE = ZoneInfo("Africa/Casablanca")
SLOTS_SHOWN = 6
SLOTS_PER_DAY = 3
SEARCH_DAYS = 14
MAX_SEARCH_DAYS = 31
AGENCIES_SHOWN = 4
LATER = "later"

BOOKING_SLOTS = ("service", "city", "agency_id", "appointment_slot", "full_name", "phone", "booking_confirmation")
# The service a request for an appointment names through a need ("un rdv pour un business plan",
# "bghit maw3id 3la tamwil"); information, premises and accounting name no one service.
SERVICE_OF_NEED = {"business_plan": "business_plan", "formalisation": "formalisation",
                   "training": "entrepreneurship_training", "financing": "financing_orientation",
                   "hiring": "hiring_aids"}
# Changing an answer clears the answers that depend on it (and the confirmation, always).
DEPENDENTS: dict[str, tuple[str, ...]] = {
    "service": ("appointment_slot",),
    "city": ("agency_id", "appointment_slot"),
    "agency_id": ("appointment_slot",),
    "appointment_slot": (),
    "full_name": (),
    "phone": (),
}
# What a finished, stopped or failed booking leaves behind: the person (name, phone) and the place
# stay for next time; the choices of this booking go.
BOOKING_RESET = ("service", "agency_id", "appointment_slot", "booking_confirmation", "booking_options",
                 "booking_agency", "booking_slots_after", "booking_slots_day", "booking_menu", "booking_program")
APPOINTMENT_RESET = ("appointment_ref", "appointment_info", "reschedule_slot", "cancel_confirmation",
                     "reschedule_confirmation", "booking_options", "booking_slots_after", "booking_slots_day")

# The user leaves the form: the rules of data/rules/booking.yml take over (the form gets no event).
LEAVE_INTENTS = frozenset({"stop", "goodbye", "ask_human", "delete_my_data"})
# Questions answered by a rule of data/rules/booking.yml while a form waits; the form resumes after.
# tests/actions/test_booking.py checks that each has its rule for each form.
DIGRESSION_INTENTS = frozenset({"bot_challenge", "ask_cost", "ask_documents"})
# Not an answer, but no reason for a remark either: the question is simply asked again.
SILENT_INTENTS = frozenset({"choose_language", "greet", "thank", "book_appointment", "cancel_appointment",
                            "reschedule_appointment", "my_appointments"})
# What is said when a typed answer to the question is not understood.
REMARKS = {"full_name": "utter_booking_name_invalid", "phone": "utter_booking_phone_invalid",
           "booking_confirmation": "utter_booking_confirm_with_buttons"}
# Replies that can carry a name or a place (a bare "Youssef" or "Safi" may be classified anyhow).
ANSWER_INTENTS = frozenset({"inform", "nlu_fallback", "out_of_scope", "affirm", "deny"})


# ----------------------------------------------------------------------------------- helpers


def local_now() -> datetime:
    """The time in Morocco (a function, so tests can fix it)."""
    return datetime.now(TIMEZONE)


def parse_moment(value: Any) -> datetime | None:
    """A slot value ("2027-01-12T09:00:00+01:00") as a Casablanca-time datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=TIMEZONE) if moment.tzinfo is None else moment.astimezone(TIMEZONE)


def when_of(value: Any, lang: str) -> dict[str, str]:
    """The {day} and {time} placeholders of a moment, in the user's language."""
    moment = parse_moment(value)
    if moment is None:
        return {"day": str(value or ""), "time": ""}
    return {"day": format_day(moment, lang), "time": format_time(moment)}


def response_text(domain: DomainDict, name: str, lang: str) -> str:
    """The text of a domain response in `lang` (for button titles and inserted phrases)."""
    variants = (domain.get("responses") or {}).get(name) or []
    fallback = ""
    for variant in variants:
        if variant.get("channel"):
            continue
        conditions = variant.get("condition") or []
        if any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            return str(variant.get("text") or "")
        if not conditions and not fallback:
            fallback = str(variant.get("text") or "")
    return fallback


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    """What the user typed; empty for a button payload ("/inform{...}"), which carries entities."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def latest_entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (what this turn may have changed)."""
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
        elif event.get("event") == "restart":
            value = None
    return value


def button(title: str, intent: str, entity: str | None = None, value: Any = None) -> dict[str, str]:
    payload = f"/{intent}" if entity is None else f"/{intent}" + json.dumps({entity: value}, ensure_ascii=False,
                                                                             separators=(",", ":"))
    return {"title": title, "payload": payload}


def end_form() -> list[EventType]:
    """Ends the form from inside it: its submit rule runs, and finds nothing to do."""
    return [SlotSet("requested_slot", None)]


def idempotency_key(tracker: Tracker, choices: dict[str, Any]) -> str:
    """The same conversation confirming the same choices gets the same key, so that a retried
    confirmation (after a timeout, a double tap) replays the first booking instead of making a
    second. `booking_count` (bookings made in this conversation) separates a later booking of
    the same choices, e.g. after cancelling the first."""
    basis = {"conversation": tracker.sender_id, "bookings": tracker.get_slot("booking_count") or 0, **choices}
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"ge-bot-{digest[:48]}"


def agency_info(agency: Agency) -> dict[str, Any]:
    return {"id": agency.id, "name": agency.name, "name_ar": agency.name_ar, "city": agency.city,
            "address": agency.address if agency.address_confirmed else None}


def agency_name(info: dict[str, Any] | None, lang: str) -> str:
    if not info:
        return ""
    if lang in ("ar", "ary") and info.get("name_ar"):
        return str(info["name_ar"])
    return str(info.get("name") or info.get("id") or "")


def agency_address(info: dict[str, Any] | None, domain: DomainDict, lang: str) -> str:
    """The verified address, or "to be confirmed" in the user's language: never a guessed one."""
    address = (info or {}).get("address")
    return str(address) if address else response_text(domain, "utter_booking_address_tbc", lang)


async def services_by_id(lang: str) -> dict[str, str]:
    """Service names in `lang` by id; empty when the backend is down (callers fall back to ids)."""
    try:
        return {s.id: s.name for s in await get_client().services(lang=lang)}
    except (BackendUnavailable, BackendRejected):
        return {}


async def service_options(lang: str) -> list[Option]:
    """The catalogue as options titled in `lang`, also known by their names in the other varieties."""
    client = get_client()
    main = await client.services(lang=lang)
    others = await asyncio.gather(*(client.services(lang=other) for other in LANGUAGES if other != lang),
                                  return_exceptions=True)
    names: dict[str, list[str]] = {}
    for result in others:
        if isinstance(result, list):
            for service in result:
                names.setdefault(service.id, []).append(service.name)
    return [Option(value=s.id, label=s.name, words=tuple(names.get(s.id, ()))) for s in main]


def pick_slots(slots: Iterable[FreeSlot], *, after: datetime | None, per_day: int | None,
               exclude: datetime | None = None) -> list[FreeSlot]:
    """The next free slots to show: later than `after`, at most `per_day` a day (so that several
    days show), at most SLOTS_SHOWN, without `exclude` (the time an appointment being moved has)."""
    chosen: list[FreeSlot] = []
    per_date: dict[str, int] = {}
    for slot in slots:
        moment = parse_moment(slot.starts_at)
        if moment is None or (after is not None and moment <= after) or moment <= local_now() or moment == exclude:
            continue
        if per_day is not None and per_date.get(slot.date, 0) >= per_day:
            continue
        per_date[slot.date] = per_date.get(slot.date, 0) + 1
        chosen.append(slot)
        if len(chosen) == SLOTS_SHOWN:
            break
    return chosen


async def find_free_slots(agency_id: str, service: str, *, after: datetime | None, day: date | None,
                          exclude: datetime | None = None) -> tuple[list[FreeSlot], bool]:
    """The slots to offer, and whether they are on the asked `day` (False: the day had none and
    the next ones are offered instead)."""
    client = get_client()
    if day is not None:
        on_day = pick_slots(await client.free_slots(agency_id, service=service, start=day, days=1),
                            after=None, per_day=None, exclude=exclude)
        if on_day:
            return on_day, True
        after = datetime.combine(day, datetime.min.time(), TIMEZONE)
    start = after.date() if after is not None else None
    for days in (SEARCH_DAYS, MAX_SEARCH_DAYS):
        found = pick_slots(await client.free_slots(agency_id, service=service, start=start, days=days),
                           after=after, per_day=SLOTS_PER_DAY, exclude=exclude)
        if found:
            return found, day is None
    return [], day is None


def after_offered(options: Sequence[Option]) -> str | None:
    """Where "later dates" starts: the end of the last day offered (the other times of the days
    shown can still be typed, "mardi 11h")."""
    moments = [m for m in (parse_moment(o.when) for o in options) if m is not None]
    if not moments:
        return None
    last = max(moments)
    return datetime.combine(last.date(), datetime.max.time().replace(microsecond=0), TIMEZONE).isoformat()


def slot_buttons(slots: Sequence[FreeSlot], entity: str, lang: str, domain: DomainDict
                 ) -> tuple[list[dict[str, str]], list[Option]]:
    buttons, options = [], []
    for slot in slots:
        moment = parse_moment(slot.starts_at)
        assert moment is not None
        label = short_label(moment, lang)
        buttons.append(button(label, "inform", entity, slot.starts_at))
        options.append(Option(value=slot.starts_at, label=label, when=slot.starts_at))
    buttons.append(button(response_text(domain, "utter_booking_later_button", lang), "inform", entity, LATER))
    return buttons, options


# ------------------------------------------------------------------------ validation: shared


class _Form(FormValidationAction):
    """What every form of this module shares: the turn's reading and the events it returns.

    Abstract (rasa-sdk registers every concrete Action it finds): each form's class says which.
    """

    slots: tuple[str, ...] = ()
    # Requests for another flow that leave this form for it, as LEAVE_INTENTS do: a rule of
    # data/rules/booking.yml ends the form and starts that flow. The other requests for a flow are
    # asked again silently (SILENT_INTENTS).
    switches: frozenset[str] = frozenset()

    @property
    @abstractmethod
    def form(self) -> str:
        """The form this action validates."""

    def name(self) -> str:
        return f"validate_{self.form}"

    def activating(self, tracker: Tracker) -> bool:
        """Is the form starting (first run after the user's message), rather than getting an answer?

        Rasa adds the ActiveLoop event before the form's first run: the form starts when that
        event comes after the latest user message (also when a rule starts it again, e.g. after
        a slot was taken meanwhile)."""
        for event in reversed(tracker.events):
            if event.get("event") == "active_loop" and event.get("name") == self.form:
                return True
            if event.get("event") == "user":
                return False
        return False

    @staticmethod
    def answer_refused(dispatcher: CollectingDispatcher, requested: str | None, intent: str | None,
                       updates: dict[str, Any], remark: str = "utter_booking_choose_again") -> list[EventType] | None:
        """Nothing usable in the message: None (no event: the rules take over) when it is a
        question a rule answers, else the question is asked again, with a remark if useful."""
        if intent in LEAVE_INTENTS or intent in DIGRESSION_INTENTS:
            return None
        if intent not in SILENT_INTENTS:
            dispatcher.utter_message(response=remark)
        if requested:
            updates[requested] = None
        return [SlotSet(k, v) for k, v in updates.items()]

    async def phone_from_text(self, dispatcher: CollectingDispatcher, text: str) -> str | None:
        phone = normalize_phone(text) or find_phone(text)
        if phone is None:
            dispatcher.utter_message(response="utter_booking_phone_invalid")
        return phone


# ----------------------------------------------------------------------- validation: booking


class ValidateBookingForm(_Form):
    form = "booking_form"  # type: ignore[assignment]
    slots = BOOKING_SLOTS
    # Not reschedule_appointment: while booking, "je veux changer la date" changes this booking's.
    switches = frozenset({"cancel_appointment", "my_appointments", "check_eligibility"})

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        intent = latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        candidates = {k: v for k, v in tracker.slots_to_validate().items() if k in self.slots}
        updates: dict[str, Any] = {}

        whatsapp = sender_phone(tracker)
        if whatsapp and tracker.get_slot("phone") != whatsapp:
            updates["phone"] = whatsapp
            candidates.pop("phone", None)

        if self.activating(tracker):
            return await self.activate(dispatcher, tracker, domain, candidates, updates, lang)
        if intent in LEAVE_INTENTS | self.switches:
            return []

        text = latest_text(tracker)
        denied = intent == "deny"
        change = latest_entity(tracker, "booking_change")
        if "city" not in candidates and requested != "city" and change is None and (
                denied or wants_change(text) or starts_with_no(text)):
            # "non, plutôt à Fès" when the NLU found no place: ask the gazetteer.
            place = await place_in(text, lang)
            if place:
                candidates["city"] = place
        if change == "menu" or (requested == "booking_confirmation" and not candidates and (
                denied or wants_change(text)) and change_request(text, denied=denied) is None):
            updates.update(booking_confirmation=None, booking_menu=True)
            return [SlotSet(k, v) for k, v in updates.items()]
        field = change if change in FIELDS else change_request(text, denied=denied)
        if field is None and requested not in ("appointment_slot", None) and (denied or wants_change(text)):
            # "non, plutôt lundi 10h" while asked something else: the time is what changes.
            when = parse_when(text, local_now().date())
            field = "appointment_slot" if when.has_day or when.hour is not None else None
        if field and field != requested and field not in candidates and not (field == "phone" and whatsapp):
            self.clear(field, updates)
            if field == "appointment_slot":
                self.hint_day(text, updates)
            return [SlotSet(k, v) for k, v in updates.items()]

        if (requested == "agency_id" and "city" in candidates
                and resolve(text, options_from_slot(tracker.get_slot("booking_options"), "agency_id")).option
                and not (denied or wants_change(text) or starts_with_no(text))):
            # "إنزكان" when asked which agency, Inezgane's among those offered: that agency, not a
            # new place to list agencies around (the place it names stays the conversation's).
            del candidates["city"]
        changed = False
        for slot in self.slots:
            if slot in candidates:
                changed |= await self.accept(slot, candidates[slot], dispatcher, tracker, domain, updates,
                                             requested=requested, intent=intent, text=text, lang=lang)
        if changed or requested in candidates:
            # A changed answer, or the asked one given by a button (accepted, or refused with a word).
            return [SlotSet(k, v) for k, v in updates.items()]

        location = shared_location(tracker) if requested == "city" else None
        if location:
            # A location shared on WhatsApp: the place of the agency nearest to it.
            try:
                found = await get_client().nearest_agencies(lat=location[0], lon=location[1], limit=1, lang=lang)
            except BackendUnavailable:
                dispatcher.utter_message(response="utter_backend_unavailable")
                return [*(SlotSet(k, v) for k, v in updates.items()), *end_form()]
            except BackendRejected:
                found = None
            nearest = found.agencies[0] if found and found.agencies else None
            updates["city"] = (nearest.place_id or nearest.city) if nearest else None
            if nearest is None:
                dispatcher.utter_message(response="utter_booking_choose_again")
            return [SlotSet(k, v) for k, v in updates.items()]
        if requested in self.slots and text:
            answered = await self.typed(requested, text, dispatcher, tracker, domain, updates, intent=intent, lang=lang)
            if answered is not None:
                return answered
        if requested == "booking_confirmation" and intent == "affirm":
            updates["booking_confirmation"] = "yes"
            return [SlotSet(k, v) for k, v in updates.items()]
        if requested in ("service", "agency_id") and text and parse_when(text, local_now().date()).has_day:
            # "ghda f l3chiya" when asked the agency: the day is kept for the times offered later
            # and the question asked again, without "I did not understand". (Not when asked the
            # place: souk towns are named after weekdays, "Sebt Gzoula", "Khemis Zemamra".)
            self.hint_day(text, updates)
            return [SlotSet(k, v) for k, v in updates.items()]
        if any(slot != requested and updates.get(slot) is not None for slot in candidates):
            # "ana f sala" when asked the service: the place is kept and the question asked again,
            # without "I did not understand" (it was understood, as another answer).
            return [SlotSet(k, v) for k, v in updates.items()]
        remark = REMARKS.get(requested or "", "utter_booking_choose_again")
        refused = self.answer_refused(dispatcher, requested, intent, updates, remark)
        return refused if refused is not None else []

    # -- turns

    async def activate(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                       candidates: dict[str, Any], updates: dict[str, Any], lang: str) -> list[EventType]:
        """A new booking: keep what is known (place, name, phone, a service from a button or named
        in the request), always confirm again, and note the programme the user named ("rdv pour
        forsa")."""
        updates.update(booking_confirmation=None, booking_menu=False, booking_slots_after=None,
                       booking_slots_day=None)
        program = latest_entity(tracker, "program")
        if program:
            updates["booking_program"] = program
        # What the request itself says (not when a rule starts the form again after something else).
        request = latest_text(tracker) if latest_intent(tracker) == "book_appointment" else ""
        named_place = latest_entity(tracker, "city")
        if request and named_place is None:
            # "bghit rdv f tanja" when the NLU found no place: ask the gazetteer.
            place = await place_in(request, lang)
            if place and place != tracker.get_slot("city"):
                updates.update(city=place, booking_agency=None)
                for dependent in DEPENDENTS["city"]:
                    updates[dependent] = None
        if request and not request.startswith("/"):
            # "bghit rdv ghda f casa": the times offered will start on that day.
            self.hint_day(request, updates)
        shown = tracker.get_slot("nearest_agency_id")
        # (On activation Rasa hands over the slots already filled as candidates: the place shown is
        # among them; a place named in this request is not "there".)
        if (request and shown and "agency_id" not in candidates and named_place is None and "city" not in updates
                and tracker.get_slot("city") and means_agency_shown(request)):
            # "bghit nakhod rdv tma" after the nearest agency was shown: that agency.
            candidates["agency_id"] = shown
        if request and "service" not in candidates:
            # The service named in the request itself, if the catalogue has it (else it is asked).
            service = SERVICE_OF_NEED.get(find_need(request) or "")
            if service:
                candidates["service"] = service
        for slot in ("service", "agency_id", "appointment_slot", "full_name", "phone"):
            if slot in candidates and slot not in updates:
                await self.accept(slot, candidates[slot], dispatcher, tracker, domain, updates,
                                  requested=None, intent=None, text="", lang=lang, quiet=True)
        return [SlotSet(k, v) for k, v in updates.items()]

    def clear(self, field: str, updates: dict[str, Any]) -> None:
        for slot in (field, *DEPENDENTS.get(field, ())):
            updates[slot] = None
        updates.update(booking_confirmation=None, booking_menu=False)
        if field in ("city", "agency_id"):
            updates["booking_agency"] = None
        updates.update(booking_slots_after=None, booking_slots_day=None)

    @staticmethod
    def hint_day(text: str, updates: dict[str, Any]) -> None:
        """"non, plutôt lundi": the slots offered next start on that day."""
        day = parse_when(text, local_now().date()).first_day(local_now().date())
        if day is not None:
            updates["booking_slots_day"] = day.isoformat()

    async def accept(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                     domain: DomainDict, updates: dict[str, Any], *, requested: str | None, intent: str | None,
                     text: str, lang: str, quiet: bool = False) -> bool:
        """Validate a value the turn brought (an entity, a button, a pre-filled answer). Returns
        True when it changed an earlier answer, which then clears what depended on it."""
        before = previous_value(tracker, slot)
        if slot == "city":
            if value is None:
                updates["city"] = None
                return before is not None
            # A surname can be a city ("Mohamed Safi"): while asked for a name or a phone, a place
            # counts only if the user says they change it ("non, plutôt à Safi").
            if requested in ("full_name", "phone") and not (
                    intent in ("deny", "book_appointment", "find_agency") or wants_change(text)
                    or starts_with_no(text)):
                updates["city"] = before
                return False
            updates["city"] = value
        elif slot == "service":
            options = options_from_slot(tracker.get_slot("booking_options"), "service")
            known = {o.value for o in options}
            if not known:
                try:
                    known = {o.value for o in await service_options(lang)}
                except (BackendUnavailable, BackendRejected):
                    known = {str(value)}
            if value not in known:
                if not quiet:
                    dispatcher.utter_message(response="utter_booking_choose_again")
                updates["service"] = None
                return False
            updates["service"] = value
        elif slot == "agency_id":
            info = await self.agency_details(value, tracker, lang)
            if info is None:
                if not quiet:
                    dispatcher.utter_message(response="utter_booking_choose_again")
                updates["agency_id"] = None
                return False
            updates.update(agency_id=info["id"], booking_agency=info)
            value = info["id"]
        elif slot == "appointment_slot":
            if value == LATER:
                offered = options_from_slot(tracker.get_slot("booking_options"), "appointment_slot")
                updates.update(appointment_slot=None, booking_slots_day=None,
                               booking_slots_after=after_offered(offered))
                return False
            moment = parse_moment(value)
            if moment is None or moment <= local_now():
                if not quiet:
                    dispatcher.utter_message(response="utter_booking_choose_again")
                updates["appointment_slot"] = None
                return False
            updates.update(appointment_slot=value, booking_slots_after=None, booking_slots_day=None)
        elif slot == "full_name":
            name = clean_name(value)
            updates["full_name"] = name
            if name is None:
                return False
        elif slot == "phone":
            phone = normalize_phone(value) if isinstance(value, str) else None
            updates["phone"] = phone
            if phone is None:
                return False
            value = phone
        elif slot == "booking_confirmation":
            updates["booking_confirmation"] = value if value == "yes" else None
            return False
        changed = before is not None and before != value and slot != requested
        if changed or (slot == requested and before is not None and before != value):
            for dependent in DEPENDENTS.get(slot, ()):
                updates[dependent] = None
            if "agency_id" in DEPENDENTS.get(slot, ()):
                updates["booking_agency"] = None
            updates["booking_confirmation"] = None
        return changed

    async def agency_details(self, agency_id: Any, tracker: Tracker, lang: str) -> dict[str, Any] | None:
        if not isinstance(agency_id, str) or not agency_id:
            return None
        known = tracker.get_slot("booking_agency")
        if isinstance(known, dict) and known.get("id") == agency_id:
            return known
        for option in options_from_slot(tracker.get_slot("booking_options"), "agency_id"):
            if option.value == agency_id and option.data:
                return option.data
        try:
            return agency_info(await get_client().agency(agency_id, lang=lang))
        except BackendRejected:
            return None
        except BackendUnavailable:
            return {"id": agency_id, "name": agency_id, "name_ar": None, "city": "", "address": None}

    async def typed(self, requested: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: DomainDict, updates: dict[str, Any], *, intent: str | None, lang: str
                    ) -> list[EventType] | None:
        """A typed answer to the question asked; None when the text does not answer it."""
        def done() -> list[EventType]:
            return [SlotSet(k, v) for k, v in updates.items()]

        if requested == "service":
            options = options_from_slot(tracker.get_slot("booking_options"), "service")
            picked = resolve(text, options).option
            if picked:
                updates["service"] = picked.value
                return done()
        elif requested == "city":
            if intent not in ANSWER_INTENTS | {"book_appointment", "find_agency"} or len(text.split()) > 6:
                return None
            try:
                found = await get_client().nearest_agencies(place=text, limit=1, lang=lang)
            except BackendUnavailable:
                dispatcher.utter_message(response="utter_backend_unavailable")
                return [*done(), *end_form()]
            except BackendRejected:
                found = None
            if found is None or not found.agencies:
                dispatcher.utter_message(response="utter_booking_place_unknown", place=text)
                updates["city"] = None
                return done()
            updates["city"] = found.place_id or text
            return done()
        elif requested == "agency_id":
            options = options_from_slot(tracker.get_slot("booking_options"), "agency_id")
            picked = resolve(text, options).option
            if picked:
                info = await self.agency_details(picked.value, tracker, lang)
                if info:
                    updates.update(agency_id=picked.value, booking_agency=info)
                    return done()
        elif requested == "appointment_slot":
            return await self.typed_slot(text, dispatcher, tracker, updates)
        elif requested == "full_name":
            phone = find_phone(text)
            if phone:
                updates["phone"] = phone
            if intent not in ANSWER_INTENTS and not phone:
                return None
            name = clean_name(text)
            if name is None:
                if phone:
                    return done()
                dispatcher.utter_message(response="utter_booking_name_invalid")
            updates["full_name"] = name
            return done()
        elif requested == "phone":
            if not any(c.isdigit() for c in text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))):
                return None
            updates["phone"] = await self.phone_from_text(dispatcher, text)
            return done()
        elif requested == "booking_confirmation":
            return None
        return None

    async def typed_slot(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                         updates: dict[str, Any]) -> list[EventType] | None:
        def done() -> list[EventType]:
            return [SlotSet(k, v) for k, v in updates.items()]

        options = options_from_slot(tracker.get_slot("booking_options"), "appointment_slot")
        today = local_now().date()
        result = resolve(text, options, today=today)
        if result.option:
            updates.update(appointment_slot=result.option.value, booking_slots_after=None, booking_slots_day=None)
            return done()
        if wants_later(text):
            updates.update(appointment_slot=None, booking_slots_day=None, booking_slots_after=after_offered(options))
            return done()
        day = result.when.first_day(today)
        if day is None:
            return None
        agency_id, service = tracker.get_slot("agency_id"), tracker.get_slot("service")
        if result.when.hour is not None and agency_id and service:
            try:
                slots = await get_client().free_slots(agency_id, service=service, start=day, days=1)
            except BackendUnavailable:
                dispatcher.utter_message(response="utter_backend_unavailable")
                return [*done(), *end_form()]
            except BackendRejected:
                slots = []
            for slot in slots:
                moment = parse_moment(slot.starts_at)
                if moment is not None and result.when.accepts(moment) and moment > local_now():
                    updates.update(appointment_slot=slot.starts_at, booking_slots_after=None, booking_slots_day=None)
                    return done()
            if slots:  # else the day has nothing free at all, which the next question says
                dispatcher.utter_message(response="utter_booking_time_not_free")
        updates.update(appointment_slot=None, booking_slots_after=None, booking_slots_day=day.isoformat())
        return done()


def starts_with_no(text: str) -> bool:
    words = text.replace(",", " ").split()
    return bool(words) and words[0].lower().strip(".!") in ("non", "no", "la", "لا", "nn", "laa")


async def place_in(text: str, lang: str) -> str | None:
    """The place id a short message names, if the backend's gazetteer is sure of it."""
    if not text or len(text.split()) > 8:
        return None
    try:
        place = await get_client().resolve_place(text, lang=lang)
    except (BackendUnavailable, BackendRejected):
        return None
    return place.id if place and not place.fuzzy and not place.common_word else None


# ------------------------------------------------------------------------ asks: booking


class ActionAskService(Action):
    def name(self) -> str:
        return "action_ask_booking_form_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        try:
            options = await service_options(lang)
        except (BackendUnavailable, BackendRejected):
            dispatcher.utter_message(response="utter_backend_unavailable")
            return end_form()
        dispatcher.utter_message(response="utter_ask_booking_form_service",
                                 buttons=[button(o.label, "inform", "service", o.value) for o in options])
        return [SlotSet("booking_options", options_to_slot("service", options))]


class ActionAskAgency(Action):
    def name(self) -> str:
        return "action_ask_booking_form_agency_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        place = tracker.get_slot("city")
        try:
            found = await get_client().nearest_agencies(place=str(place), limit=AGENCIES_SHOWN, lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return end_form()
        except BackendRejected:
            found = None
        if found is None or not found.agencies:
            dispatcher.utter_message(response="utter_booking_place_unknown", place=str(place))
            dispatcher.utter_message(response="utter_ask_booking_form_city")
            return [SlotSet("city", None), SlotSet("requested_slot", "city")]
        tbc = response_text(domain, "utter_booking_address_tbc", lang)
        lines, buttons, options = [], [], []
        for agency in found.agencies:
            info = agency_info(agency)
            title = agency_name(info, lang)
            lines.append(f"• {title} : {agency.address if agency.address_confirmed else tbc}")
            buttons.append(button(title, "inform", "agency_id", agency.id))
            words = tuple(w for w in (agency.name, agency.name_ar, agency.city) if w)
            options.append(Option(value=agency.id, label=title, words=words, data=info))
        dispatcher.utter_message(response="utter_ask_booking_form_agency_id", place=found.place or str(place),
                                 agencies="\n".join(lines), buttons=buttons)
        return [SlotSet("booking_options", options_to_slot("agency_id", options))]


async def offer_slots(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, *, agency_id: str,
                      service: str, agency: str, response: str, entity: str, extra: dict[str, Any],
                      exclude: str | None = None) -> tuple[list[EventType], bool]:
    """Shows the next free slots as buttons (with "later dates"); returns the events and whether
    any slot was found."""
    lang = language_of(tracker)
    after = parse_moment(tracker.get_slot("booking_slots_after"))
    day_value = tracker.get_slot("booking_slots_day")
    day = date.fromisoformat(day_value) if isinstance(day_value, str) else None
    try:
        slots, on_day = await find_free_slots(agency_id, service, after=after, day=day, exclude=parse_moment(exclude))
    except BackendRejected:
        if after is None and day is None:
            raise
        slots, on_day = [], day is None  # beyond the booking horizon
    if day is not None and not on_day:
        dispatcher.utter_message(response="utter_booking_no_slots_that_day", day=format_day(day, lang))
    if not slots and (after is not None or day is not None):
        # Nothing later (the booking horizon is a few weeks): the first free slots again.
        dispatcher.utter_message(response="utter_booking_no_later_slots")
        slots, _ = await find_free_slots(agency_id, service, after=None, day=None, exclude=parse_moment(exclude))
    if not slots:
        return [SlotSet("booking_slots_after", None), SlotSet("booking_slots_day", None)], False
    buttons, options = slot_buttons(slots, entity, lang, domain)
    dispatcher.utter_message(response=response, agency_name=agency, buttons=buttons, **extra)
    # The day shown stays the view: asked again (an answer not understood, a slot taken meanwhile),
    # the person sees the same day's times, not the first free ones.
    shown_day = day_value if day is not None and on_day else None
    return [SlotSet("booking_options", options_to_slot(entity, options)), SlotSet("booking_slots_day", shown_day)], True


class ActionAskAppointmentSlot(Action):
    def name(self) -> str:
        return "action_ask_booking_form_appointment_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        info = tracker.get_slot("booking_agency") or {}
        name = agency_name(info, lang) or str(tracker.get_slot("agency_id"))
        try:
            events, found = await offer_slots(
                dispatcher, tracker, domain, agency_id=tracker.get_slot("agency_id"),
                service=tracker.get_slot("service"), agency=name, response="utter_ask_booking_form_appointment_slot",
                entity="appointment_slot", extra={})
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return end_form()
        except BackendRejected:
            events, found = [], False
        if found:
            return events
        # Nothing free at this agency in the coming weeks (or no such agency any more): another one.
        dispatcher.utter_message(response="utter_booking_no_slots", agency_name=name)
        asked = await ActionAskAgency().run(dispatcher, tracker, domain)
        if not any(e.get("name") == "requested_slot" for e in asked):
            asked.append(SlotSet("requested_slot", "agency_id"))
        return [*events, SlotSet("agency_id", None), SlotSet("booking_agency", None), *asked]


class ActionAskBookingConfirmation(Action):
    def name(self) -> str:
        return "action_ask_booking_form_booking_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        if tracker.get_slot("booking_menu"):
            # Its WhatsApp variants leave out the phone, which is the sender's there.
            dispatcher.utter_message(response="utter_booking_change_menu")
            return [SlotSet("booking_menu", False)]
        info = tracker.get_slot("booking_agency")
        service = tracker.get_slot("service")
        names = await services_by_id(lang)
        phone = tracker.get_slot("phone")
        dispatcher.utter_message(
            response="utter_booking_summary",
            service_name=names.get(service, service),
            agency_name=agency_name(info, lang) or tracker.get_slot("agency_id"),
            agency_address=agency_address(info, domain, lang),
            full_name=tracker.get_slot("full_name"),
            phone=display_phone(phone) if phone else "",
            **when_of(tracker.get_slot("appointment_slot"), lang),
        )
        return []


# -------------------------------------------------------------------- submit: booking


class ActionBookAppointment(Action):
    """Books what the user confirmed. 409 (taken meanwhile) → other slots are offered; backend
    down → apology, nothing booked, the answers kept so that confirming again retries with the
    same idempotency key."""

    def name(self) -> str:
        return "action_book_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        slots = {name: tracker.get_slot(name) for name in BOOKING_SLOTS}
        if slots["booking_confirmation"] != "yes" or any(slots[name] in (None, "") for name in BOOKING_SLOTS):
            # The form ended without a confirmed booking (its step already said why).
            return [SlotSet("booking_confirmation", None), SlotSet("appointment_outcome", "failed")]
        channel = channel_of(tracker)
        choices = {
            "full_name": slots["full_name"], "phone": slots["phone"], "agency_id": slots["agency_id"],
            "service": slots["service"], "starts_at": slots["appointment_slot"], "language": lang,
            "channel": channel, "program": tracker.get_slot("booking_program"),
        }
        # Only an explicit "yes" on WhatsApp opts in to business-initiated messages (reminders).
        if channel == "whatsapp" and tracker.get_slot("whatsapp_opt_in") == "yes":
            choices["whatsapp_opt_in"] = True
        key = idempotency_key(tracker, choices)
        try:
            appointment = await get_client().book_appointment(idempotency_key=key, **choices)
            if appointment.status != "booked":
                # The key replayed an earlier booking of the same choices that has since been
                # cancelled or moved (the conversation was restarted): this is a new booking.
                appointment = await get_client().book_appointment(
                    idempotency_key=f"{key}-{appointment.reference}", **choices)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return [SlotSet("booking_confirmation", None), SlotSet("appointment_outcome", "failed")]
        except BackendRejected as rejected:
            return self.refused(rejected, dispatcher)
        info = tracker.get_slot("booking_agency")
        dispatcher.utter_message(
            response="utter_booking_done",
            reference=appointment.reference,
            service_name=appointment.service_name,
            agency_name=agency_name(info, lang) or appointment.agency_name,
            agency_address=agency_address(info, domain, lang),
            **when_of(appointment.starts_at, lang),
        )
        count = tracker.get_slot("booking_count") or 0
        # The appointment the conversation is now about: "my appointments", "cancel" or "move it"
        # next need no reference on the web (`session_reference`).
        return [*(SlotSet(name, None) for name in BOOKING_RESET), SlotSet("booking_count", int(count) + 1),
                SlotSet("appointment_outcome", "booked"), SlotSet("appointment_ref", appointment.reference)]

    @staticmethod
    def refused(rejected: BackendRejected, dispatcher: CollectingDispatcher) -> list[EventType]:
        detail = str(rejected.detail or "")
        if rejected.status == 409 and "already has an appointment" in detail:
            dispatcher.utter_message(response="utter_booking_person_busy")
        elif rejected.status == 409:
            dispatcher.utter_message(response="utter_booking_slot_taken")
        else:
            dispatcher.utter_message(response="utter_booking_rejected")
            return [SlotSet("booking_confirmation", None), SlotSet("appointment_outcome", "failed")]
        # Back to the time slots, from the next free one.
        return [SlotSet("appointment_slot", None), SlotSet("booking_confirmation", None),
                SlotSet("booking_slots_after", None), SlotSet("booking_slots_day", None),
                SlotSet("appointment_outcome", "slot_taken")]


class ActionStopBooking(Action):
    def name(self) -> str:
        return "action_stop_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_booking_stopped")
        return [*(SlotSet(name, None) for name in BOOKING_RESET), SlotSet("requested_slot", None),
                SlotSet("appointment_outcome", None)]


# ---------------------------------------------------------- my appointments, cancel, move


def appointment_record(appointment: Appointment) -> dict[str, Any]:
    return {"reference": appointment.reference, "agency_id": appointment.agency_id,
            "agency_name": appointment.agency_name, "service": appointment.service,
            "service_name": appointment.service_name, "starts_at": appointment.starts_at}


def appointment_lines(records: Sequence[dict[str, Any]], lang: str) -> str:
    lines = []
    for record in records:
        when = when_of(record["starts_at"], lang)
        lines.append(f"• {record['reference']} — {record['service_name']} — {when['day']} {when['time']} — "
                     f"{record['agency_name']}")
    return "\n".join(lines)


# appointment_ref of appointments_form on WhatsApp: every appointment of the sender.
ALL_APPOINTMENTS = "*"


def typed_reference(text: str, records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The record whose reference the text contains ("k7m2qx", "ref: K7M-2QX"), if any."""
    compact = "".join(c for c in text.upper() if c.isascii() and c.isalnum())
    return next((r for r in records if r["reference"] and r["reference"] in compact), None)


def tries_reference(text: str) -> bool:
    """Whether a reply holds something like a reference (letters and digits together: "K7M2QX",
    "ref k7m-2qx"), rather than "nsit la référence" or "je ne l'ai pas"."""
    words = ["".join(c for c in w if c.isascii() and c.isalnum()) for w in text.split()]
    candidates = [*words, "".join(words)] if len(words) <= 3 else words
    return any(4 <= len(w) <= 10 and any(c.isdigit() for c in w) and any(c.isalpha() for c in w) for w in candidates)


def shown_reference(event: dict[str, Any], action: str | None) -> str | None:
    """The reference of the appointment an event shows to be the conversation's, given the action
    that set it: the reference of a booking made here, or an appointment opened (on the web, its
    number and reference given, and the backend found that reference among the number's)."""
    if event.get("event") != "slot" or not event.get("value"):
        return None
    value = event["value"]
    if event.get("name") == "appointment_ref" and action == "action_book_appointment" and isinstance(value, str):
        return value
    if event.get("name") == "appointment_info" and isinstance(value, dict) and value.get("reference"):
        return str(value["reference"])
    return None


def shown_references(tracker: Tracker) -> list[str]:
    """The references of the appointments booked or opened in this session."""
    references: list[str] = []
    action = None
    for event in session_events(tracker):
        if event.get("event") == "action":
            action = event.get("name")
        reference = shown_reference(event, action)
        if reference and reference not in references:
            references.append(reference)
    return references


def session_reference(tracker: Tracker) -> str | None:
    """On the web, the reference of the one appointment this session has shown to be the person's:
    booked here, or opened. None when there is none, or several (which one is meant is then
    asked). The backend still checks it against the number."""
    references = shown_references(tracker)
    return references[0] if len(references) == 1 else None


class _AppointmentForm(_Form):
    """appointments_form, cancel_form and reschedule_form: the phone first (the WhatsApp sender,
    asked on the web), then which appointment, then what each needs.

    Who may see or change an appointment: on WhatsApp the sender's number is vouched for by
    Twilio, so their appointments are listed and offered. On the web a typed number proves
    nothing (anybody can type anybody's), so the booking's reference, given only to the person
    who booked, is asked as well, and only the appointment with that reference *and* that number
    is shown or changed; whether the number has appointments at all is never said. The one
    appointment this session already showed (booked here, or opened) is taken without asking its
    reference again.
    """

    final: str = ""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        intent = latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        candidates = {k: v for k, v in tracker.slots_to_validate().items() if k in self.slots}
        updates: dict[str, Any] = {}
        activating = self.activating(tracker)
        if activating:
            updates.update({slot: None for slot in self.slots if slot != "phone"})
            updates.update(appointment_info=None, booking_slots_after=None, booking_slots_day=None)
            if "reschedule_slot" in self.slots:
                # "décale-le à vendredi": the free times offered start on that day.
                day = target_day(latest_text(tracker) or "", local_now().date())
                updates["booking_slots_day"] = day.isoformat() if day else None
        elif intent in LEAVE_INTENTS | self.switches:
            return []
        text = latest_text(tracker)

        phone = sender_phone(tracker)
        if phone is None and "phone" in candidates:
            phone = normalize_phone(candidates["phone"]) if isinstance(candidates["phone"], str) else None
        if phone is None and not activating and requested == "phone" and text:
            if not any(c.isdigit() for c in text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))):
                refused = self.answer_refused(dispatcher, requested, intent, updates, "utter_booking_phone_invalid")
                return refused if refused is not None else []
            phone = await self.phone_from_text(dispatcher, text)
            if phone is None:
                updates["phone"] = None
                return [SlotSet(k, v) for k, v in updates.items()]
        verified = sender_phone(tracker) is not None
        if phone is not None and (activating or requested == "phone" or phone != tracker.get_slot("phone")):
            updates["phone"] = phone
            wanted = latest_entity(tracker, "appointment_ref") if activating else None
            if wanted is None and not verified:
                wanted = session_reference(tracker)
            loaded = await self.load(dispatcher, phone, lang, wanted, verified=verified)
            return [*(SlotSet(k, v) for k, v in updates.items()), *loaded]
        if activating:
            return [SlotSet(k, v) for k, v in updates.items()]

        if requested == "appointment_ref":
            records = options_from_slot(tracker.get_slot("booking_options"), "appointment_ref")
            value = candidates.get("appointment_ref")
            picked = next((o for o in records if o.value == value), None) if value else None
            if not verified:
                # On the web only the reference itself chooses (no list was shown to pick from).
                record = picked.data if picked is not None else typed_reference(text or "", [
                    o.data for o in records if o.data])
                if record is None:
                    tried = tries_reference(text or "")
                    dispatcher.utter_message(response="utter_appointment_reference_unknown" if tried
                                             else "utter_appointment_reference_missing")
                    return [SlotSet("appointment_ref", None)]
                updates.update(appointment_ref=record["reference"], appointment_info=record)
                return [SlotSet(k, v) for k, v in updates.items()]
            if picked is None and text:
                picked = resolve(text, records, today=local_now().date()).option
            if picked is not None and picked.data:
                updates.update(appointment_ref=picked.value, appointment_info=picked.data)
                return [SlotSet(k, v) for k, v in updates.items()]
        elif requested == self.final:
            if intent == "affirm":
                updates[self.final] = "yes"
                return [SlotSet(k, v) for k, v in updates.items()]
            if intent == "deny":
                updates[self.final] = "no"
                return [SlotSet(k, v) for k, v in updates.items()]
        elif requested == "reschedule_slot":
            answered = await self.typed_new_slot(candidates.get("reschedule_slot"), text, dispatcher, tracker, updates)
            if answered is not None:
                return answered
        remark = "utter_appointment_confirm_with_buttons" if requested == self.final else "utter_booking_choose_again"
        refused = self.answer_refused(dispatcher, requested, intent, updates, remark)
        return refused if refused is not None else []

    async def load(self, dispatcher: CollectingDispatcher, phone: str, lang: str, wanted: Any, *,
                   verified: bool) -> list[EventType]:
        """The person's upcoming appointments. From a verified number (WhatsApp): none → say so and
        end; one → chosen; several → offered (appointments_form: all of them). From a typed one:
        kept out of sight, and only the one whose reference was given is chosen."""
        try:
            appointments = await get_client().appointments(phone, lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return end_form()
        except BackendRejected:
            dispatcher.utter_message(response="utter_booking_phone_invalid")
            return [SlotSet("phone", None)]
        records = [appointment_record(a) for a in appointments]
        chosen = next((r for r in records if isinstance(wanted, str) and r["reference"] == wanted.upper()), None)
        if not verified:
            events: list[EventType] = [SlotSet("booking_options", options_to_slot("appointment_ref", [
                Option(value=r["reference"], label=r["reference"], data=r) for r in records]))]
            if chosen is not None:
                events += [SlotSet("appointment_ref", chosen["reference"]), SlotSet("appointment_info", chosen)]
            return events
        if not appointments:
            dispatcher.utter_message(response="utter_appointments_none", phone=display_phone(phone))
            return end_form()
        if self.form == "appointments_form":
            return [SlotSet("appointment_ref", ALL_APPOINTMENTS)]
        if chosen is None and len(records) == 1:
            chosen = records[0]
        options = [Option(value=r["reference"], label=short_label(parse_moment(r["starts_at"]) or local_now(), lang),
                          words=(r["reference"], r["agency_name"], r["service_name"]), when=r["starts_at"], data=r)
                   for r in records]
        events: list[EventType] = [SlotSet("booking_options", options_to_slot("appointment_ref", options))]
        if chosen is not None:
            events += [SlotSet("appointment_ref", chosen["reference"]), SlotSet("appointment_info", chosen)]
        return events

    async def typed_new_slot(self, value: Any, text: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                             updates: dict[str, Any]) -> list[EventType] | None:
        return None


class ValidateAppointmentsForm(_AppointmentForm):
    form = "appointments_form"  # type: ignore[assignment]
    slots = ("phone", "appointment_ref")
    switches = frozenset({"book_appointment", "cancel_appointment", "reschedule_appointment", "check_eligibility"})


class ValidateCancelForm(_AppointmentForm):
    form = "cancel_form"  # type: ignore[assignment]
    slots = ("phone", "appointment_ref", "cancel_confirmation")
    switches = frozenset({"book_appointment", "reschedule_appointment", "my_appointments", "check_eligibility"})
    final = "cancel_confirmation"


class ValidateRescheduleForm(_AppointmentForm):
    form = "reschedule_form"  # type: ignore[assignment]
    slots = ("phone", "appointment_ref", "reschedule_slot", "reschedule_confirmation")
    # Not book_appointment: while moving an appointment, "bghit maw3id jdid" may mean a new time.
    switches = frozenset({"cancel_appointment", "my_appointments", "check_eligibility"})
    final = "reschedule_confirmation"

    async def typed_new_slot(self, value: Any, text: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                             updates: dict[str, Any]) -> list[EventType] | None:
        options = options_from_slot(tracker.get_slot("booking_options"), "reschedule_slot")
        if value == LATER or (value is None and text and wants_later(text)):
            updates.update(reschedule_slot=None, booking_slots_day=None, booking_slots_after=after_offered(options))
            return [SlotSet(k, v) for k, v in updates.items()]
        if value is not None:
            moment = parse_moment(value)
            if moment is not None and moment > local_now():
                updates.update(reschedule_slot=value, booking_slots_after=None)
                return [SlotSet(k, v) for k, v in updates.items()]
            return None
        if not text:
            return None
        result = resolve(text, options, today=local_now().date())
        if result.option:
            updates.update(reschedule_slot=result.option.value, booking_slots_after=None)
            return [SlotSet(k, v) for k, v in updates.items()]
        day = result.when.first_day(local_now().date())
        if day is None:
            return None
        info = tracker.get_slot("appointment_info") or {}
        if result.when.hour is not None and info:
            try:
                slots = await get_client().free_slots(info["agency_id"], service=info["service"], start=day, days=1)
            except BackendUnavailable:
                dispatcher.utter_message(response="utter_backend_unavailable")
                return [*(SlotSet(k, v) for k, v in updates.items()), *end_form()]
            except BackendRejected:
                slots = []
            for slot in slots:
                moment = parse_moment(slot.starts_at)
                if moment is not None and result.when.accepts(moment) and moment > local_now():
                    updates.update(reschedule_slot=slot.starts_at, booking_slots_after=None)
                    return [SlotSet(k, v) for k, v in updates.items()]
            if slots:
                dispatcher.utter_message(response="utter_booking_time_not_free")
        updates.update(reschedule_slot=None, booking_slots_after=None, booking_slots_day=day.isoformat())
        return [SlotSet(k, v) for k, v in updates.items()]


class _AskAppointmentRef(Action, ABC):
    """Which appointment: the person's appointments as buttons (named per form, as Rasa looks
    for `action_ask_<form>_<slot>` before anything else)."""

    @property
    @abstractmethod
    def form(self) -> str:
        """The form that asks."""

    @property
    @abstractmethod
    def response(self) -> str:
        """The question it asks."""

    def name(self) -> str:
        return f"action_ask_{self.form}_appointment_ref"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if sender_phone(tracker) is None:
            # The web: the reference is the proof (see _AppointmentForm), nothing is listed.
            dispatcher.utter_message(response="utter_ask_appointment_reference")
            return []
        lang = language_of(tracker)
        options = options_from_slot(tracker.get_slot("booking_options"), "appointment_ref")
        records = [o.data for o in options if o.data]
        dispatcher.utter_message(response=self.response, appointments=appointment_lines(records, lang),
                                 buttons=[button(o.label, "inform", "appointment_ref", o.value) for o in options])
        return []


class ActionAskCancelAppointmentRef(_AskAppointmentRef):
    form = "cancel_form"  # type: ignore[assignment]
    response = "utter_choose_appointment_to_cancel"  # type: ignore[assignment]


class ActionAskRescheduleAppointmentRef(_AskAppointmentRef):
    form = "reschedule_form"  # type: ignore[assignment]
    response = "utter_choose_appointment_to_move"  # type: ignore[assignment]


class ActionAskAppointmentsAppointmentRef(_AskAppointmentRef):
    """Only asked on the web: on WhatsApp appointments_form takes every appointment."""

    form = "appointments_form"  # type: ignore[assignment]
    response = "utter_ask_appointment_reference"  # type: ignore[assignment]


def appointment_placeholders(tracker: Tracker, lang: str) -> dict[str, Any]:
    info = tracker.get_slot("appointment_info") or {}
    return {"reference": info.get("reference", ""), "service_name": info.get("service_name", ""),
            "agency_name": info.get("agency_name", ""), **when_of(info.get("starts_at"), lang)}


class ActionAskCancelConfirmation(Action):
    def name(self) -> str:
        return "action_ask_cancel_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_cancel_confirmation",
                                 **appointment_placeholders(tracker, language_of(tracker)))
        return []


class ActionAskRescheduleSlot(Action):
    def name(self) -> str:
        return "action_ask_reschedule_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        info = tracker.get_slot("appointment_info") or {}
        details = appointment_placeholders(tracker, lang)
        try:
            events, found = await offer_slots(
                dispatcher, tracker, domain, agency_id=info.get("agency_id", ""), service=info.get("service", ""),
                agency=info.get("agency_name", ""), response="utter_ask_reschedule_slot", entity="reschedule_slot",
                extra={k: v for k, v in details.items() if k != "agency_name"}, exclude=info.get("starts_at"))
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return end_form()
        except BackendRejected:
            events, found = [], False
        if not found:
            dispatcher.utter_message(response="utter_reschedule_no_slots", agency_name=info.get("agency_name", ""))
            return [*events, *end_form()]
        return events


class ActionAskRescheduleConfirmation(Action):
    def name(self) -> str:
        return "action_ask_reschedule_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        details = appointment_placeholders(tracker, lang)
        new = when_of(tracker.get_slot("reschedule_slot"), lang)
        dispatcher.utter_message(response="utter_ask_reschedule_confirmation", reference=details["reference"],
                                 agency_name=details["agency_name"], old_day=details["day"], old_time=details["time"],
                                 day=new["day"], time=new["time"])
        return []


def appointment_reset() -> list[EventType]:
    return [SlotSet(name, None) for name in APPOINTMENT_RESET]


class ActionListAppointments(Action):
    def name(self) -> str:
        return "action_list_appointments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        phone = sender_phone(tracker)
        if phone is None:
            # The web: only the appointment whose reference and number were both given.
            info = tracker.get_slot("appointment_info")
            if isinstance(info, dict) and info.get("reference"):
                dispatcher.utter_message(response="utter_appointments_list",
                                         appointments=appointment_lines([info], lang), count=1)
            return []
        try:
            appointments = await get_client().appointments(phone, lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected:
            dispatcher.utter_message(response="utter_booking_phone_invalid")
            return [SlotSet("phone", None)]
        if not appointments:
            dispatcher.utter_message(response="utter_appointments_none", phone=display_phone(phone))
            return []
        records = [appointment_record(a) for a in appointments]
        dispatcher.utter_message(response="utter_appointments_list", appointments=appointment_lines(records, lang),
                                 count=len(records))
        return []


class ActionCancelAppointment(Action):
    def name(self) -> str:
        return "action_cancel_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        reference = tracker.get_slot("appointment_ref")
        phone = sender_phone(tracker) or normalize_phone(tracker.get_slot("phone"))
        confirmed = tracker.get_slot("cancel_confirmation")
        if not reference or phone is None or confirmed is None:
            return [*appointment_reset(), SlotSet("appointment_outcome", "failed")]
        details = appointment_placeholders(tracker, lang)
        if confirmed != "yes":
            dispatcher.utter_message(response="utter_cancel_kept", **details)
            return [*appointment_reset(), SlotSet("appointment_outcome", "done")]
        try:
            await get_client().cancel_appointment(reference, phone=phone)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return [*appointment_reset(), SlotSet("appointment_outcome", "failed")]
        except BackendRejected as rejected:
            response = "utter_appointment_not_found" if rejected.status == 404 else "utter_cancel_not_possible"
            dispatcher.utter_message(response=response, **details)
            return [*appointment_reset(), SlotSet("appointment_outcome", "failed")]
        dispatcher.utter_message(response="utter_cancel_done", **details)
        return [*appointment_reset(), SlotSet("appointment_outcome", "done")]


class ActionRescheduleAppointment(Action):
    def name(self) -> str:
        return "action_reschedule_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lang = language_of(tracker)
        reference = tracker.get_slot("appointment_ref")
        phone = sender_phone(tracker) or normalize_phone(tracker.get_slot("phone"))
        new_slot = tracker.get_slot("reschedule_slot")
        confirmed = tracker.get_slot("reschedule_confirmation")
        if not reference or phone is None or not new_slot or confirmed is None:
            return [*appointment_reset(), SlotSet("appointment_outcome", "failed")]
        details = appointment_placeholders(tracker, lang)
        if confirmed != "yes":
            dispatcher.utter_message(response="utter_reschedule_kept", **details)
            return [*appointment_reset(), SlotSet("appointment_outcome", "done")]
        try:
            moved = await get_client().reschedule_appointment(reference, starts_at=new_slot, phone=phone, lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return [*appointment_reset(), SlotSet("appointment_outcome", "failed")]
        except BackendRejected as rejected:
            detail = str(rejected.detail or "")
            if rejected.status == 409 and "full" in detail:
                # The new slot was taken meanwhile; the appointment stayed where it was.
                dispatcher.utter_message(response="utter_reschedule_slot_taken", **details)
                return [SlotSet("reschedule_slot", None), SlotSet("reschedule_confirmation", None),
                        SlotSet("booking_slots_after", None), SlotSet("booking_slots_day", None),
                        SlotSet("appointment_outcome", "slot_taken")]
            response = "utter_appointment_not_found" if rejected.status == 404 else "utter_reschedule_not_possible"
            dispatcher.utter_message(response=response, **details)
            return [*appointment_reset(), SlotSet("appointment_outcome", "failed")]
        dispatcher.utter_message(response="utter_reschedule_done", reference=moved.reference,
                                 agency_name=details["agency_name"] or moved.agency_name,
                                 **when_of(moved.starts_at, lang))
        return [*appointment_reset(), SlotSet("appointment_outcome", "done")]


class ActionStopAppointments(Action):
    def name(self) -> str:
        return "action_stop_appointments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_appointments_stopped")
        return [*appointment_reset(), SlotSet("requested_slot", None), SlotSet("appointment_outcome", None)]
