"""The "delete my data" flow: after the person confirms, DELETE /citizens/{phone}, then forget the
conversation's personal slots.

Whose data: on WhatsApp the sender's number (the channel checks it). On the web a typed number
proves nothing: anyone could type someone else's, in the booking or anywhere else, and erase
their data and cancel their appointments. So the web erases only a number this conversation has
shown it holds, the same proof that opens an appointment there: the number *and* the reference
of one of its appointments (actions/booking.py sets `appointment_info` only when the backend
found that reference among the number's appointments), or an appointment booked with it in this
session (its reference was given here). Otherwise the person is told how to prove it, or to
write from their number on WhatsApp, and nothing is erased or revealed.

A reference proves only its own appointment, though: whoever booked it got it, and the site lets
anyone book with any number. Erasing cancels every upcoming appointment of the number, so the web
erases only when each of them was booked or opened in this session, so that nobody can book with
a stranger's number and then erase the stranger's other appointments.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendRejected, BackendUnavailable, get_client
from actions.booking import shown_reference, shown_references
from actions.handoff import display_phone, normalize_phone, sender_phone, session_events

# What the conversation holds about the person (booking, eligibility, handoff, agencies); the
# language is a setting, not personal data, and stays.
PERSONAL_SLOTS = (
    "full_name", "phone", "city", "agency_id", "appointment_slot", "appointment_ref", "appointment_info",
    "nearest_agency_id", "stage", "age", "need", "turnover", "residence", "area", "business_age_years", "sector",
    "investment",
)


def forget_person(domain: DomainDict) -> list[EventType]:
    """SlotSet(None) for every personal slot the domain declares."""
    declared = domain.get("slots") or {}
    return [SlotSet(slot, None) for slot in PERSONAL_SLOTS if slot in declared]


def proven_phone(tracker: Tracker) -> str | None:
    """On the web, the conversation's number if an appointment was opened with it in this
    session (its reference given and found among the number's appointments) or booked with it
    here, else None."""
    proven: set[str] = set()
    phone: str | None = None
    opened = False
    action = None
    # An action's slots arrive together (the number and the appointment it opened, in any
    # order): an appointment proves the number the conversation had once that batch was applied.
    for event in [*session_events(tracker), {"event": "end"}]:
        if event.get("event") == "slot":
            if event.get("name") == "phone":
                value = event.get("value")
                phone = normalize_phone(value) if isinstance(value, str) else None
            elif shown_reference(event, action):
                opened = True
            continue
        if event.get("event") == "action":
            action = event.get("name")
        if opened and phone:
            proven.add(phone)
        opened = False
    current = normalize_phone(tracker.get_slot("phone"))
    return current if current in proven else None


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        verified = sender_phone(tracker)
        phone = verified or proven_phone(tracker)
        if phone is None:
            typed = normalize_phone(tracker.get_slot("phone"))
            dispatcher.utter_message(response="utter_delete_needs_reference" if typed else "utter_delete_no_phone")
            return forget_person(domain)
        if verified is None:
            try:
                upcoming = await get_client().appointments(phone)
            except BackendUnavailable:
                dispatcher.utter_message(response="utter_backend_unavailable")
                return []
            except BackendRejected:
                dispatcher.utter_message(response="utter_delete_failed")
                return []
            shown = set(shown_references(tracker))
            if any(appointment.reference not in shown for appointment in upcoming):
                # Nothing erased, and the slots kept: the person may still cancel what they opened.
                dispatcher.utter_message(response="utter_delete_needs_every_reference")
                return []
        try:
            erasure = await get_client().erase_citizen(phone)
        except BackendUnavailable:
            # Nothing was erased: keep the slots, so that trying again later erases the same number.
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        except BackendRejected as rejected:
            if rejected.status != 404:
                dispatcher.utter_message(response="utter_delete_failed")
                return []
            dispatcher.utter_message(response="utter_delete_nothing_held", phone=display_phone(phone))
            return forget_person(domain)
        dispatcher.utter_message(
            response="utter_data_deleted",
            phone=display_phone(phone),
            cancelled=erasure.appointments_cancelled,
        )
        return forget_person(domain)
