"""The "delete my data" flow: after the person confirms, DELETE /citizens/{phone}, then forget the
conversation's personal slots.

Whose data: on WhatsApp the sender's number (the channel checks it); on the web only a number
given in this same conversation. A number merely typed in answer to "which number?" would let
anyone erase someone else's data and cancel their appointments, so the web does not ask for one.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendRejected, BackendUnavailable, get_client
from actions.handoff import display_phone, known_phone

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


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = known_phone(tracker)
        if phone is None:
            dispatcher.utter_message(response="utter_delete_no_phone")
            return forget_person(domain)
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
