"""Delete my data: whose number, the erasure, and forgetting the conversation's personal slots."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import PERSONAL_SLOTS, ActionDeleteMyData, proven_phone
from tests.actions.conftest import (
    FakeBackend,
    action_event,
    assert_responses_exist,
    make_tracker,
    responses_of,
    slot_event,
    slots_set,
    user_event,
)
from tests.actions.test_booking import appointment

ERASED = {"erased": True, "citizen": True, "appointments_cancelled": 1, "appointments_anonymised": 2,
          "handoffs_anonymised": 1, "notifications_erased": 3}
PERSONAL = {"full_name": "Salma Benali", "phone": "+212612345678", "city": "tanger", "agency_id": "tanger",
            "appointment_slot": "2027-01-12T09:00:00+01:00", "stage": "idea", "age": 24, "need": "financing",
            "nearest_agency_id": "tanger"}


def _confirmed(**kwargs):
    return make_tracker(text="/affirm", intent="affirm", latest_action_name="action_listen", **kwargs)


@pytest.mark.asyncio
async def test_whatsapp_erases_the_senders_data_and_forgets_the_person(dispatcher, domain, backend: FakeBackend):
    backend.on("DELETE", "/citizens/+212612345678", json=ERASED)
    tracker = _confirmed(channel="whatsapp", sender_id="+212612345678", language="ary", slots=PERSONAL)
    events = await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert len(backend.calls("DELETE")) == 1
    assert backend.calls("GET") == []  # the sender's number is vouched for by Twilio
    assert responses_of(dispatcher) == ["utter_data_deleted"]
    assert dispatcher.messages[0]["phone"] == "06 12 34 56 78" and dispatcher.messages[0]["cancelled"] == 1
    forgotten = slots_set(events)
    assert set(PERSONAL) <= set(forgotten) and all(v is None for v in forgotten.values())
    assert "language" not in forgotten
    assert set(forgotten) <= set(domain["slots"])  # only declared slots are touched
    assert_responses_exist(dispatcher, domain)


OPENED = {"reference": "K7M2QX", "agency_id": "tanger", "agency_name": "Tanger", "service": "information_orientation",
          "service_name": "Information", "starts_at": "2027-01-12T09:00:00+01:00"}


def _opened_with(phone: str, *, info_first: bool = False) -> list[dict]:
    """The web conversation opened an appointment: the number typed, then its reference found."""
    asked = [action_event("appointments_form"), user_event("0712345678"), slot_event("phone", phone)]
    found = [slot_event("appointment_ref", OPENED["reference"]), slot_event("appointment_info", OPENED)]
    if info_first:  # the number and the appointment set by the same action, in the other order
        return [action_event("appointments_form"), user_event("K7M2QX"), *found, slot_event("phone", phone)]
    return [*asked, action_event("appointments_form"), user_event("K7M2QX"), *found,
            action_event("action_stop_appointments"), slot_event("appointment_info", None)]


@pytest.mark.asyncio
@pytest.mark.parametrize("info_first", [False, True])
async def test_web_erases_a_number_whose_appointment_was_opened_with_its_reference(dispatcher, domain, backend,
                                                                                  info_first):
    backend.on("GET", "/appointments", json=[appointment("K7M2QX", phone="+212712345678")])
    backend.on("DELETE", "/citizens/+212712345678", json={**ERASED, "appointments_cancelled": 0})
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"},
                         history=_opened_with("0712345678", info_first=info_first))
    await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert [r.url.path for r in backend.calls()] == ["/api/v1/appointments", "/api/v1/citizens/+212712345678"]
    assert backend.calls("GET", "/appointments")[0].url.params["phone"] == "+212712345678"
    assert responses_of(dispatcher) == ["utter_data_deleted"]


BOOKED_HERE = [action_event("booking_form"), user_event("0712345678"), slot_event("phone", "+212712345678"),
               action_event("booking_form"), user_event("oui", "affirm"), action_event("action_book_appointment"),
               slot_event("appointment_outcome", "booked"), slot_event("appointment_ref", "B00K3D")]


@pytest.mark.parametrize(("history", "upcoming"), [
    # The appointment opened, then cancelled: nothing upcoming is left to protect.
    (_opened_with("0712345678"), []),
    # Booked in this conversation, which was given its reference: the same proof as opening it.
    (BOOKED_HERE, [appointment("B00K3D", phone="+212712345678")]),
], ids=["opened-then-cancelled", "booked-here"])
@pytest.mark.asyncio
async def test_web_erases_a_proven_number_whose_upcoming_appointments_were_all_shown_here(
        dispatcher, domain, backend, history, upcoming):
    backend.on("GET", "/appointments", json=upcoming)
    backend.on("DELETE", "/citizens/+212712345678", json=ERASED)
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"}, history=history)
    assert proven_phone(tracker) == "+212712345678"
    await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert len(backend.calls("DELETE")) == 1
    assert responses_of(dispatcher) == ["utter_data_deleted"]


@pytest.mark.asyncio
async def test_web_never_erases_a_numbers_appointments_this_session_did_not_open(dispatcher, domain, backend):
    # Someone books from the site with a stranger's number, opens that booking with the reference
    # they were given, and asks to erase: the stranger's own appointment would be cancelled.
    backend.on("GET", "/appointments", json=[appointment("K7M2QX", phone="+212712345678"),
                                             appointment("V1CT1M", phone="+212712345678")])
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678", "full_name": "X"},
                         history=_opened_with("0712345678"))
    events = await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert backend.calls("DELETE") == []
    assert responses_of(dispatcher) == ["utter_delete_needs_every_reference"]
    assert events == []  # nothing erased, nothing forgotten: what was opened may still be cancelled
    assert_responses_exist(dispatcher, domain)
    # Once that other appointment is opened in the same session too, the number is erased.
    both = [*_opened_with("0712345678"), action_event("appointments_form"), user_event("V1CT1M"),
            slot_event("appointment_ref", "V1CT1M"), slot_event("appointment_info", {**OPENED, "reference": "V1CT1M"})]
    backend.on("DELETE", "/citizens/+212712345678", json=ERASED)
    erased = CollectingDispatcher()
    await ActionDeleteMyData().run(erased, _confirmed(channel="socketio", slots={"phone": "+212712345678"},
                                                      history=both), domain)
    assert responses_of(erased) == ["utter_data_deleted"]


@pytest.mark.asyncio
async def test_web_booking_with_a_strangers_number_erases_none_of_theirs(dispatcher, domain, backend):
    backend.on("GET", "/appointments", json=[appointment("B00K3D", phone="+212712345678"),
                                             appointment("V1CT1M", phone="+212712345678")])
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"}, history=BOOKED_HERE)
    assert await ActionDeleteMyData().run(dispatcher, tracker, domain) == []
    assert backend.calls("DELETE") == []
    assert responses_of(dispatcher) == ["utter_delete_needs_every_reference"]


@pytest.mark.asyncio
async def test_web_never_erases_a_number_merely_typed(dispatcher, domain, backend):
    # Someone else's number typed in the booking form (or anywhere): nothing erased, nothing said
    # about that number, the conversation forgets it.
    history = [action_event("booking_form"), user_event("0712345678"), slot_event("phone", "+212712345678")]
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678", "full_name": "X"}, history=history)
    events = await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert backend.calls() == []
    assert responses_of(dispatcher) == ["utter_delete_needs_reference"]
    assert "+212712345678" not in str(dispatcher.messages) and "07 12" not in str(dispatcher.messages)
    assert slots_set(events)["phone"] is None and slots_set(events)["full_name"] is None
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_web_an_appointment_opened_with_another_number_proves_nothing(dispatcher, domain, backend):
    # The person's own appointment opened, then another number typed: that one is not proven.
    history = [*_opened_with("0612345678"), action_event("booking_form"), user_event("0712345678"),
               slot_event("phone", "+212712345678")]
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"}, history=history)
    assert proven_phone(tracker) is None
    await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert backend.calls() == []
    assert responses_of(dispatcher) == ["utter_delete_needs_reference"]


def test_a_proven_number_stays_proven_when_the_appointment_is_closed() -> None:
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"}, history=_opened_with("+212712345678"))
    assert proven_phone(tracker) == "+212712345678"


def test_an_appointment_opened_in_an_earlier_session_proves_nothing_now() -> None:
    # Rasa's in-memory store sends every session: a later visitor at the same browser, after the
    # session expired, has proven nothing.
    history = [*_opened_with("+212712345678"), {"event": "session_started"}, action_event("action_listen")]
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"}, history=history)
    assert proven_phone(tracker) is None


@pytest.mark.asyncio
async def test_web_without_a_number_erases_nothing_on_the_backend(dispatcher, domain, backend):
    events = await ActionDeleteMyData().run(dispatcher, _confirmed(channel="socketio", slots={"stage": "idea"}), domain)
    assert backend.calls() == []
    assert responses_of(dispatcher) == ["utter_delete_no_phone"]
    assert slots_set(events)["stage"] is None
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_nothing_held_is_said_so(dispatcher, domain, backend):
    backend.on("DELETE", "/citizens/+212612345678", json={"detail": "no data is held for this phone number"},
               status=404)
    events = await ActionDeleteMyData().run(dispatcher, _confirmed(channel="whatsapp", sender_id="+212612345678",
                                                                   slots=PERSONAL), domain)
    assert responses_of(dispatcher) == ["utter_delete_nothing_held"]
    assert slots_set(events)["full_name"] is None
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_backend_down_keeps_everything_to_try_again(dispatcher, domain, backend):
    backend.down = True
    tracker = _confirmed(channel="socketio", slots=PERSONAL, history=_opened_with(PERSONAL["phone"]))
    events = await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert events == []
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_other_refusals_are_explained_and_keep_the_slots(dispatcher, domain, backend):
    backend.on("DELETE", "/citizens/+212612345678", json={"detail": "phone: invalid"}, status=422)
    events = await ActionDeleteMyData().run(dispatcher, _confirmed(channel="whatsapp", sender_id="+212612345678",
                                                                   slots=PERSONAL), domain)
    assert events == []
    assert responses_of(dispatcher) == ["utter_delete_failed"]
    assert_responses_exist(dispatcher, domain)


def test_personal_slots_cover_the_contracts_person_slots():
    contract = {"full_name", "phone", "city", "agency_id", "appointment_slot", "stage", "age", "need"}
    assert contract <= set(PERSONAL_SLOTS)
