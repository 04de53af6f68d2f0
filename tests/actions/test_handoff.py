"""Human handoff: the callback request form and its submission."""

from __future__ import annotations

import pytest

from actions.analytics import reports_sent
from actions.handoff import (
    ActionSubmitHandoff,
    ValidateHandoffForm,
    channel_of,
    conversation_summary,
    display_phone,
    find_phone,
    normalize_phone,
)
from tests.actions.conftest import (
    FakeBackend,
    action_event,
    assert_responses_exist,
    entity,
    make_tracker,
    responses_of,
    slots_set,
    user_event,
)

HANDOFF_OUT = {"id": 7, "status": "open", "reason": "question", "agency_id": None, "place": "tanger",
               "language": "fr", "channel": "web", "created_at": "2027-01-08T10:00:00Z"}


@pytest.mark.parametrize("raw, expected", [
    ("0612345678", "+212612345678"),
    ("06 12 34 56 78", "+212612345678"),
    ("+212 6 12 34 56 78", "+212612345678"),
    ("00212712345678", "+212712345678"),
    ("whatsapp:+212612345678", "+212612345678"),
    ("٠٦١٢٣٤٥٦٧٨", "+212612345678"),
    ("+212 (0)6 12 34 56 78", "+212612345678"),
    ("0512345678", None),  # a landline cannot get WhatsApp or SMS
    ("+33612345678", None),
    ("061234567", None),
    ("salam", None),
])
def test_moroccan_mobile_numbers(raw, expected):
    assert normalize_phone(raw) == expected


def test_phone_inside_a_sentence_and_displayed_as_people_write_it():
    assert find_phone("c'est le 06.12.34.56.78 merci") == "+212612345678"
    assert find_phone("3ndi 24 3am") is None
    assert display_phone("+212612345678") == "06 12 34 56 78"


def test_whatsapp_is_told_by_the_channel_or_the_sender():
    assert channel_of(make_tracker(channel="whatsapp", sender_id="+212612345678")) == "whatsapp"
    assert channel_of(make_tracker(channel="socketio")) == "web"
    assert channel_of(make_tracker(channel="rest", sender_id="whatsapp:+212612345678")) == "whatsapp"


@pytest.mark.asyncio
async def test_web_asks_the_phone_then_the_city(dispatcher, domain):
    events = await ValidateHandoffForm().run(dispatcher, make_tracker(text="bghit nhder m3a chi wa7ed",
                                                                      intent="ask_human", channel="socketio"), domain)
    assert slots_set(events) == {"requested_slot": "phone"}

    tracker = make_tracker(text="06 12 34 56 78", intent="inform", channel="socketio", requested_slot="phone",
                           active_loop="handoff_form")
    events = await ValidateHandoffForm().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"phone": "+212612345678", "requested_slot": "city"}


@pytest.mark.parametrize(("text", "name"), [("ana ismi karim", "Karim"), ("je m'appelle Salma Benali", "Salma Benali"),
                                         ("اسمي كريم", "كريم")])
@pytest.mark.asyncio
async def test_a_name_given_for_the_number_is_kept_and_the_number_asked_again(dispatcher, domain, text, name):
    tracker = make_tracker(text=text, intent="inform", requested_slot="phone", active_loop="handoff_form")
    events = await ValidateHandoffForm().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"phone": None, "full_name": name, "requested_slot": "phone"}
    assert responses_of(dispatcher) == []  # not "this number is not valid"


@pytest.mark.asyncio
async def test_a_wrong_number_is_asked_again(dispatcher, domain):
    tracker = make_tracker(text="0512", intent="inform", requested_slot="phone", active_loop="handoff_form")
    events = await ValidateHandoffForm().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"phone": None, "requested_slot": "phone"}
    assert responses_of(dispatcher) == ["utter_handoff_invalid_phone"]
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_a_question_instead_of_the_phone_is_left_to_the_rules(dispatcher, domain):
    tracker = make_tracker(text="c'est gratuit ?", intent="ask_cost", requested_slot="phone",
                           active_loop="handoff_form")
    events = await ValidateHandoffForm().run(dispatcher, tracker, domain)
    assert "phone" not in slots_set(events)
    assert responses_of(dispatcher) == []


@pytest.mark.asyncio
async def test_whatsapp_never_asks_the_phone_and_a_known_agency_skips_the_city(dispatcher, domain):
    tracker = make_tracker(text="bghit nhder m3a moustachar", intent="ask_human", channel="whatsapp",
                           sender_id="+212612345678", slots={"nearest_agency_id": "tanger"})
    events = await ValidateHandoffForm().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"requested_slot": None}


@pytest.mark.asyncio
async def test_the_city_is_taken_from_the_entity_or_the_words(dispatcher, domain):
    tracker = make_tracker(text="f tanja", intent="inform", entities=[entity("city", "tanger")],
                           channel="whatsapp", sender_id="+212612345678", requested_slot="city")
    assert slots_set(await ValidateHandoffForm().run(dispatcher, tracker, domain))["city"] == "tanger"
    tracker = make_tracker(text="douar ait ourir", intent="inform", channel="whatsapp",
                           sender_id="+212612345678", requested_slot="city")
    assert slots_set(await ValidateHandoffForm().run(dispatcher, tracker, domain))["city"] == "douar ait ourir"


@pytest.mark.asyncio
async def test_a_shared_location_gives_the_place(dispatcher, domain, backend: FakeBackend):
    agency = {"id": "tanger", "name": "Agence Tanger", "city": "Tanger", "place_id": "tanger", "address": None,
              "address_verified": False, "distance_km": 3.2}
    backend.on("GET", "/agencies/nearest", json={"place": None, "agencies": [agency]})
    tracker = make_tracker(text='/share_location{"lat":35.7,"lon":-5.8}', intent="share_location",
                           entities=[entity("lat", 35.7), entity("lon", -5.8)], channel="whatsapp",
                           sender_id="+212612345678", requested_slot="city", active_loop="handoff_form")
    assert slots_set(await ValidateHandoffForm().run(dispatcher, tracker, domain)) == {
        "city": "tanger", "requested_slot": None}


def _whatsapp_conversation(**slots):
    history = [
        user_event("salam", "greet", channel="whatsapp"),
        action_event("utter_greet"),
        user_event("wach n9der nstafed mn forsa?", "check_eligibility", [entity("program", "forsa")],
                   channel="whatsapp"),
        user_event("/inform{\"stage\":\"idea\"}", "inform", [entity("stage", "idea")], channel="whatsapp"),
    ]
    return make_tracker(text="bghit nhder m3a chi moustachar", intent="ask_human", language="ary_latn",
                        channel="whatsapp", sender_id="+212612345678", history=history,
                        metadata={"profile_name": "Salma"}, slots=slots,
                        latest_action_name="handoff_form")


@pytest.mark.asyncio
async def test_submits_the_request_with_a_summary_of_the_conversation(dispatcher, domain, backend: FakeBackend):
    backend.on("POST", "/handoffs", json=HANDOFF_OUT, status=201)
    tracker = _whatsapp_conversation(city="tanger", stage="idea", full_name="Salma Benali")
    events = await ActionSubmitHandoff().run(dispatcher, tracker, domain)
    assert events == []
    (request,) = backend.calls("POST", "/handoffs")
    body = FakeBackend.body(request)
    assert request.headers["Authorization"] == "Bearer test-service-token"
    assert {k: body[k] for k in ("phone", "channel", "language", "reason", "agency_id", "place", "full_name")} == {
        "phone": "+212612345678", "channel": "whatsapp", "language": "ary_latn", "reason": "question",
        "agency_id": None, "place": "tanger", "full_name": "Salma Benali"}
    assert "check_eligibility" in body["summary"] and "program=forsa" in body["summary"]
    assert "« wach n9der nstafed mn forsa? »" in body["summary"] and "/inform" not in body["summary"]
    assert "stage=idea" in body["summary"]
    assert responses_of(dispatcher) == ["utter_handoff_done"]
    assert dispatcher.messages[0]["phone"] == "06 12 34 56 78"


@pytest.mark.asyncio
async def test_the_request_is_counted_for_the_funnel_without_personal_data(dispatcher, domain, backend):
    backend.on("POST", "/handoffs", json=HANDOFF_OUT, status=201)
    backend.on("POST", "/events", json={"id": 1}, status=201)
    await ActionSubmitHandoff().run(dispatcher, _whatsapp_conversation(city="tanger"), domain)
    await reports_sent()
    assert FakeBackend.body(backend.calls("POST", "/events")[0]) == {
        "kind": "handoff_requested", "channel": "whatsapp", "language": "ary_latn", "place": "tanger"}


@pytest.mark.asyncio
async def test_a_failed_report_changes_nothing_for_the_person(dispatcher, domain, backend):
    backend.on("POST", "/handoffs", json=HANDOFF_OUT, status=201)
    backend.on("POST", "/events", json={"detail": "down"}, status=503)
    assert await ActionSubmitHandoff().run(dispatcher, _whatsapp_conversation(city="tanger"), domain) == []
    assert responses_of(dispatcher) == ["utter_handoff_done"]


@pytest.mark.asyncio
async def test_the_whatsapp_profile_name_stands_in_for_a_name_not_given(dispatcher, domain, backend: FakeBackend):
    backend.on("POST", "/handoffs", json=HANDOFF_OUT, status=201)
    await ActionSubmitHandoff().run(dispatcher, _whatsapp_conversation(city="tanger"), domain)
    assert FakeBackend.body(backend.calls("POST", "/handoffs")[0])["full_name"] == "Salma"
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_a_known_agency_is_preferred_and_a_complaint_is_marked(dispatcher, domain, backend):
    backend.on("POST", "/handoffs", json={**HANDOFF_OUT, "reason": "complaint"}, status=201)
    history = [user_event("chi wa7ed tleb menni lflous", "complaint", channel="web"), action_event("utter_complaint")]
    tracker = make_tracker(text="/affirm", intent="affirm", channel="web", history=history,
                           slots={"phone": "+212612345678", "nearest_agency_id": "tanger", "city": "tanger"})
    await ActionSubmitHandoff().run(dispatcher, tracker, domain)
    body = FakeBackend.body(backend.calls("POST", "/handoffs")[0])
    assert (body["reason"], body["agency_id"], body["channel"]) == ("complaint", "tanger", "web")


@pytest.mark.asyncio
async def test_backend_down_says_so_and_keeps_nothing(dispatcher, domain, backend):
    backend.down = True
    events = await ActionSubmitHandoff().run(dispatcher, _whatsapp_conversation(city="tanger"), domain)
    assert events == []
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_server_error_counts_as_down(dispatcher, domain, backend):
    backend.on("POST", "/handoffs", json={"detail": "boom"}, status=503)
    await ActionSubmitHandoff().run(dispatcher, _whatsapp_conversation(city="tanger"), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_refused_request_is_explained(dispatcher, domain, backend):
    backend.on("POST", "/handoffs", json={"detail": "unknown agency: x"}, status=422)
    await ActionSubmitHandoff().run(dispatcher, _whatsapp_conversation(nearest_agency_id="x"), domain)
    assert responses_of(dispatcher) == ["utter_handoff_rejected"]
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_nothing_is_sent_without_a_phone_or_a_place(dispatcher, domain, backend):
    await ActionSubmitHandoff().run(dispatcher, make_tracker(text="ok", channel="web"), domain)
    assert backend.calls() == []
    assert responses_of(dispatcher) == ["utter_handoff_rejected"]


def test_summary_is_bounded_and_skips_button_payloads():
    history = [user_event("x" * 500, "inform") for _ in range(20)] + [user_event("/ask_human", "ask_human")]
    summary = conversation_summary(make_tracker(text="/ask_human", intent="ask_human", history=history))
    assert len(summary) <= 4000
    assert summary.count("« ") == 5 and "/ask_human" not in summary.split("Derniers messages")[1]

