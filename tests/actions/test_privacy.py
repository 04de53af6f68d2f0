"""Delete my data: whose number, the erasure, and forgetting the conversation's personal slots."""

from __future__ import annotations

import pytest

from actions.privacy import PERSONAL_SLOTS, ActionDeleteMyData
from tests.actions.conftest import FakeBackend, assert_responses_exist, make_tracker, responses_of, slots_set

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
    assert responses_of(dispatcher) == ["utter_data_deleted"]
    assert dispatcher.messages[0]["phone"] == "06 12 34 56 78" and dispatcher.messages[0]["cancelled"] == 1
    forgotten = slots_set(events)
    assert set(PERSONAL) <= set(forgotten) and all(v is None for v in forgotten.values())
    assert "language" not in forgotten
    assert set(forgotten) <= set(domain["slots"])  # only declared slots are touched
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_web_erases_the_number_given_in_this_conversation(dispatcher, domain, backend):
    backend.on("DELETE", "/citizens/+212712345678", json={**ERASED, "appointments_cancelled": 0})
    tracker = _confirmed(channel="socketio", slots={"phone": "+212712345678"})
    await ActionDeleteMyData().run(dispatcher, tracker, domain)
    assert [r.url.path for r in backend.calls()] == ["/api/v1/citizens/+212712345678"]
    assert responses_of(dispatcher) == ["utter_data_deleted"]


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
    events = await ActionDeleteMyData().run(dispatcher, _confirmed(channel="socketio", slots=PERSONAL), domain)
    assert events == []
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_other_refusals_are_explained_and_keep_the_slots(dispatcher, domain, backend):
    backend.on("DELETE", "/citizens/+212612345678", json={"detail": "phone: invalid"}, status=422)
    events = await ActionDeleteMyData().run(dispatcher, _confirmed(channel="socketio", slots=PERSONAL), domain)
    assert events == []
    assert responses_of(dispatcher) == ["utter_delete_failed"]
    assert_responses_exist(dispatcher, domain)


def test_personal_slots_cover_the_contracts_person_slots():
    contract = {"full_name", "phone", "city", "agency_id", "appointment_slot", "stage", "age", "need"}
    assert contract <= set(PERSONAL_SLOTS)
