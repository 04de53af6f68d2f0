"""The nearest agency and its opening hours, from a place in any spelling or script, or from a
location shared on WhatsApp (`/share_location{"lat": …, "lon": …}` or the message's metadata).

The backend resolves the place (GET /agencies/nearest?place=…) and returns localised texts that
already say "to be confirmed" for an address, phone or hours no verified source gives.

Where the place comes from, in order: a shared location; the `city` entity; the answer to "which
city?"; for opening hours, the agency found before; the message itself, which the backend's
gazetteer may read better than the NLU ("anapec f ttanja"); the `city` slot; else we ask.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.analytics import report
from actions.backend import Agency, BackendRejected, BackendUnavailable, NearestAgencies, get_client
from actions.handoff import shared_location
from actions.language import language_of, localized_custom

ASK_CITY = "utter_ask_agency_city"
UNKNOWN_PLACE = "utter_agency_place_unknown"
# Intents with which a message can be the answer to "which city?".
ANSWER_INTENTS = {"inform", "nlu_fallback", "out_of_scope"}
MAX_PROBE = 120


class _Told(Exception):
    """The person has been told why there is no agency to show; `events` are still to be returned."""

    def __init__(self, events: list[EventType] | None = None) -> None:
        super().__init__()
        self.events = events or []


def _asked_for_city(tracker: Tracker) -> bool:
    """Whether the bot's last words before this message asked for the city."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action") in (ASK_CITY, UNKNOWN_PLACE)
    return False


def _text(tracker: Tracker) -> str:
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def answer_to_which_city(tracker: Tracker) -> str | None:
    """The whole message, when it answers the bot's "which city?"."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = _text(tracker)
    return text[:200] if text and intent in ANSWER_INTENTS and _asked_for_city(tracker) else None


def _labels(domain: DomainDict, lang: str) -> dict[str, str]:
    return localized_custom(domain, "utter_agency_labels", lang).get("labels", {})


def _buttons(agency: Agency, labels: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"title": labels.get("book_here", "…"), "payload": f'/book_appointment{{"agency_id":"{agency.id}"}}'},
        {"title": labels.get("human", "…"), "payload": "/ask_human"},
    ]


class AgencyLocator:
    """Finds the agency the person means (a mixin: the actions say what to tell about it)."""

    # Opening hours may reuse the agency found before; the nearest-agency search looks again.
    reuses_known_agency = False

    async def _nearest(self, lang: str, *, place: str | None = None,
                       location: tuple[float, float] | None = None) -> NearestAgencies | None:
        """The nearest agencies, or None when the place is not a Moroccan place the backend knows."""
        try:
            if location:
                return await get_client().nearest_agencies(lat=location[0], lon=location[1], limit=1, lang=lang)
            return await get_client().nearest_agencies(place=place, limit=1, lang=lang)
        except BackendRejected as rejected:
            if rejected.status == 404:
                return None
            raise BackendUnavailable(str(rejected)) from rejected

    async def _said(self, dispatcher: CollectingDispatcher, tracker: Tracker, lang: str,
                    place: str) -> NearestAgencies:
        """The agencies near a place the person named; an unknown place is said so (and forgotten)."""
        found = await self._nearest(lang, place=place)
        if found is None:
            dispatcher.utter_message(response=UNKNOWN_PLACE, place=place)
            raise _Told([SlotSet("city", None)] if tracker.get_slot("city") == place else [])
        return found

    async def _find(self, dispatcher: CollectingDispatcher, tracker: Tracker, lang: str) -> NearestAgencies | Agency:
        location = shared_location(tracker)
        if location:
            found = await self._nearest(lang, location=location)
            if found is not None:
                return found
        entity = next(tracker.get_latest_entity_values("city"), None)
        if entity:
            return await self._said(dispatcher, tracker, lang, str(entity))
        answer = answer_to_which_city(tracker)
        if answer:
            return await self._said(dispatcher, tracker, lang, answer)
        known = tracker.get_slot("nearest_agency_id") if self.reuses_known_agency else None
        if known:
            try:
                return await get_client().agency(known, lang=lang)
            except BackendRejected:
                pass  # the agency is gone: look again from the place
        text = _text(tracker)
        if text and len(text) <= MAX_PROBE:
            # The NLU may have missed the place: the backend reads the whole message, and only a
            # sure match counts ("agence la plus proche" names no place).
            found = await self._nearest(lang, place=text)
            if found is not None and found.place_id and not found.place_uncertain:
                return found
        city = tracker.get_slot("city")
        if city:
            found = await self._nearest(lang, place=str(city))
            if found is not None:
                return found
        dispatcher.utter_message(response=ASK_CITY)
        raise _Told([SlotSet("city", None)] if city else [])

    async def _locate(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, lang: str
    ) -> tuple[Agency | None, list[EventType]]:
        try:
            found = await self._find(dispatcher, tracker, lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return None, []
        except _Told as told:
            return None, told.events
        if isinstance(found, Agency):
            return found, []
        if not found.agencies:
            dispatcher.utter_message(response="utter_agency_none_found")
            return None, []
        agency = found.agencies[0]
        events: list[EventType] = [SlotSet("nearest_agency_id", agency.id)]
        if found.place_id and found.place_id != tracker.get_slot("city"):
            events.append(SlotSet("city", found.place_id))
        return agency, events


class ActionFindAgency(AgencyLocator, Action):
    def name(self) -> str:
        return "action_find_agency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        agency, events = await self._locate(dispatcher, tracker, lang)
        if agency is None:
            return events
        labels = _labels(domain, lang)
        distance = ""
        if agency.distance_km is not None and agency.distance_km >= 1:
            distance = f" (~{round(agency.distance_km)} km)"
        dispatcher.utter_message(
            response="utter_agency_found",
            name=agency.name + distance,
            address=agency.address or labels.get("to_confirm", ""),
            hours=agency.hours or labels.get("to_confirm", ""),
            phone=agency.phone or labels.get("to_confirm", ""),
            map=agency.map_url or "",
            buttons=_buttons(agency, labels),
        )
        report(tracker, "agency_searched", agency_id=agency.id)
        return events


class ActionOpeningHours(AgencyLocator, Action):
    """Opening hours of the agency the person asked about, or of the one found before."""

    reuses_known_agency = True

    def name(self) -> str:
        return "action_opening_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        agency, events = await self._locate(dispatcher, tracker, lang)
        if agency is None:
            return events
        labels = _labels(domain, lang)
        dispatcher.utter_message(
            response="utter_agency_hours", name=agency.name, hours=agency.hours or labels.get("to_confirm", ""),
            buttons=_buttons(agency, labels),
        )
        return events
