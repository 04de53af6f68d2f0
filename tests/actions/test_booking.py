"""actions/booking.py: the booking form and my appointments / cancel / reschedule, with the
backend behind an httpx.MockTransport (tests/actions/conftest.py)."""

from __future__ import annotations

import inspect
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import booking
from actions.backend import _appointment
from actions.booking import (
    ALL_APPOINTMENTS,
    DIGRESSION_INTENTS,
    LEAVE_INTENTS,
    ActionAskAgency,
    ActionAskAppointmentsAppointmentRef,
    ActionAskAppointmentSlot,
    ActionAskBookingConfirmation,
    ActionAskCancelAppointmentRef,
    ActionAskRescheduleAppointmentRef,
    ActionAskRescheduleSlot,
    ActionAskService,
    ActionBookAppointment,
    ActionCancelAppointment,
    ActionListAppointments,
    ActionRescheduleAppointment,
    ActionStopBooking,
    ValidateAppointmentsForm,
    ValidateBookingForm,
    ValidateCancelForm,
    ValidateRescheduleForm,
    appointment_record,
    clean_name,
)
from actions.choices import Option, options_to_slot, short_label
from tests.actions.conftest import (
    FakeBackend,
    action_event,
    assert_responses_exist,
    entity,
    make_tracker,
    message_for,
    payloads_of,
    responses_of,
    slot_event,
    slots_set,
)

ROOT = Path(__file__).resolve().parents[2]
CASA = ZoneInfo("Africa/Casablanca")
NOW = datetime(2027, 1, 8, 10, 0, tzinfo=CASA)  # a Friday morning
PHONE = "+212612345678"
SLOT_MON_9 = "2027-01-11T09:00:00+01:00"
SLOT_MON_930 = "2027-01-11T09:30:00+01:00"
SLOT_TUE_10 = "2027-01-12T10:00:00+01:00"

SERVICES = {
    "fr": [("information_orientation", "Information et orientation"),
           ("business_plan", "Aide au plan d'affaires (business plan)")],
    "ar": [("information_orientation", "الإعلام والتوجيه"), ("business_plan", "المساعدة في إعداد مخطط الأعمال")],
    "ary": [("information_orientation", "المعلومات والتوجيه"), ("business_plan", "المساعدة فالبيزنس بلان")],
    "ary_latn": [("information_orientation", "Lma3lomat w tawjih"), ("business_plan", "Lmousa3ada f business plan")],
}
AGENCY_TANGER = {"id": "tanger", "name": "Agence Tanger", "name_ar": "وكالة أنابيك طنجة", "city": "Tanger",
                 "address": "Angle Avenue Omar Ben Khattab, Tanger", "address_verified": True, "distance_km": 0.0}
AGENCY_FAHS = {"id": "tanger-fahs", "name": "Agence Tanger - Fahs", "name_ar": "وكالة أنابيك طنجة - الفحص",
               "city": "Tanger", "address": "Lotissement Sabrine n°42, Tanger", "address_verified": True,
               "distance_km": 0.0}
AGENCY_FES = {"id": "fes", "name": "Agence ANAPEC Fès", "name_ar": "وكالة أنابيك فاس", "city": "Fès",
              "address": "Adresse à confirmer auprès de l'ANAPEC", "address_verified": False, "distance_km": 0.0}


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(booking, "local_now", lambda: NOW)


@pytest.fixture
def catalogue(backend: FakeBackend) -> FakeBackend:
    def services(request: httpx.Request) -> httpx.Response:
        lang = request.url.params.get("lang", "fr")
        return httpx.Response(200, json=[{"id": i, "name": n, "description": "", "duration_minutes": 30, "lang": lang,
                                          "free_of_charge": True} for i, n in SERVICES[lang]])

    backend.on("GET", "/services", handler=services)
    return backend


def free_slot(iso: str, seats: int = 2) -> dict[str, Any]:
    moment = datetime.fromisoformat(iso)
    return {"starts_at": iso, "ends_at": iso, "date": moment.date().isoformat(), "time": moment.strftime("%H:%M"),
            "free_seats": seats}


def slots_answer(*isos: str) -> dict[str, Any]:
    return {"agency_id": "tanger", "service": "business_plan", "duration_minutes": 30, "timezone": "Africa/Casablanca",
            "from": "2027-01-08", "to": "2027-01-22", "slots": [free_slot(i) for i in isos], "closed": []}


def appointment(reference: str = "K7M2QX", starts_at: str = SLOT_MON_9, **extra: Any) -> dict[str, Any]:
    moment = datetime.fromisoformat(starts_at)
    return {"reference": reference, "status": "booked", "agency_id": "tanger", "agency_name": "Agence Tanger",
            "agency_city": "Tanger", "service": "business_plan",
            "service_name": "Aide au plan d'affaires (business plan)",
            "starts_at": starts_at, "ends_at": starts_at, "date": moment.date().isoformat(),
            "time": moment.strftime("%H:%M"), "timezone": "Africa/Casablanca", "language": "fr", "channel": "web",
            "full_name": "Salma Benali", "phone": PHONE, "program": None, "segment": None, "notes": None,
            "free_of_charge": True, **extra}


def form_turn(form: str, *, text: str = "", intent: str = "inform", entities: list[dict[str, Any]] | None = None,
              slots: dict[str, Any] | None = None, requested: str | None = None,
              candidates: dict[str, Any] | None = None, activate: bool = False, language: str = "fr",
              channel: str = "rest", sender_id: str = "test-user", before: dict[str, Any] | None = None) -> Tracker:
    """The tracker a form's validation action receives: the conversation so far (slots as set
    `before` the message), the user's message, then what Rasa appends before calling it (the
    ActiveLoop event when the form starts, the requested slot, the form, the slot candidates)."""
    known = {**(before or {}), **(slots or {})}
    history = [slot_event(k, v) for k, v in known.items()]
    if not activate:
        history = [action_event(form), {"event": "active_loop", "name": form}, *history, action_event("action_listen")]
    tracker = make_tracker(text=text, intent=intent, entities=entities or [], slots={**known, **(candidates or {})},
                           language=language, channel=channel, sender_id=sender_id, history=history,
                           active_loop=form, requested_slot=requested)
    after: list[dict[str, Any]] = []
    if activate:
        after.append({"event": "active_loop", "name": form})
    after += [slot_event("requested_slot", requested), action_event(form)]
    after += [slot_event(k, v) for k, v in (candidates or {}).items()]
    tracker.events.extend(after)
    return tracker


async def validate(action: Any, tracker: Tracker, dispatcher: CollectingDispatcher, domain: dict[str, Any]
                   ) -> dict[str, Any] | None:
    """The slots the validation sets, or None when it returns no event (the form is rejected)."""
    events = await action.run(dispatcher, tracker, domain)
    assert_responses_exist(dispatcher, domain)
    return slots_set(events) if events else None


def offered(kind: str, options: list[Option]) -> dict[str, Any]:
    return {"booking_options": options_to_slot(kind, options)}


SERVICE_OPTIONS = offered("service", [
    Option("information_orientation", "Information et orientation", ("الإعلام والتوجيه",)),
    Option("business_plan", "Aide au plan d'affaires (business plan)", ("المساعدة فالبيزنس بلان",)),
])
FAHS_INFO = {"id": "tanger-fahs", "name": "Agence Tanger - Fahs", "name_ar": None, "city": "Tanger",
             "address": "Lotissement Sabrine n°42, Tanger"}
AGENCY_OPTIONS = offered("agency_id", [
    Option("tanger", "Agence Tanger", ("Tanger",), data={**FAHS_INFO, "id": "tanger", "name": "Agence Tanger"}),
    Option("tanger-fahs", "Agence Tanger - Fahs", ("Tanger",), data=FAHS_INFO),
])


def slot_options(*isos: str) -> dict[str, Any]:
    return offered("appointment_slot", [
        Option(i, short_label(datetime.fromisoformat(i), "fr"), when=i) for i in isos])


FILLED = {"service": "business_plan", "city": "tanger", "agency_id": "tanger-fahs", "appointment_slot": SLOT_MON_9,
          "full_name": "Salma Benali", "phone": PHONE, "booking_agency": FAHS_INFO}


# ------------------------------------------------------------------------------------ asking


@pytest.mark.parametrize("lang", ["fr", "ar", "ary", "ary_latn"])
@pytest.mark.asyncio
async def test_services_are_offered_as_buttons_from_the_catalogue(catalogue: FakeBackend, dispatcher, domain,
                                                                   lang) -> None:
    events = await ActionAskService().run(dispatcher, make_tracker(language=lang), domain)
    message = message_for(dispatcher, "utter_ask_booking_form_service")
    assert payloads_of(message) == ['/inform{"service":"information_orientation"}',
                                    '/inform{"service":"business_plan"}']
    assert [b["title"] for b in message["buttons"]] == [name for _, name in SERVICES[lang]]
    stored = slots_set(events)["booking_options"]
    assert stored["kind"] == "service"
    # Known by their names in the other varieties too, to resolve typed answers.
    business_plan = stored["options"][1]
    names = {business_plan["l"], *business_plan["w"]}
    assert {"Aide au plan d'affaires (business plan)", "المساعدة فالبيزنس بلان"} <= names
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_backend_down_while_asking_the_service_ends_the_form(backend: FakeBackend, dispatcher, domain) -> None:
    backend.down = True
    events = await ActionAskService().run(dispatcher, make_tracker(), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]
    assert slots_set(events) == {"requested_slot": None}


@pytest.mark.asyncio
async def test_agencies_nearest_first_with_unverified_addresses_to_be_confirmed(backend: FakeBackend, dispatcher,
                                                                               domain) -> None:
    backend.on("GET", "/agencies/nearest", json={"place": {"id": "fes", "name": "Fès"}, "origin": {},
                                                 "agencies": [AGENCY_FES, AGENCY_FAHS], "note": None, "lang": "fr"})
    tracker = make_tracker(slots={"city": "fes"})
    events = await ActionAskAgency().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_ask_booking_form_agency_id")
    assert message["place"] == "Fès"
    assert "Agence ANAPEC Fès : adresse à confirmer auprès de l'ANAPEC" in message["agencies"]
    assert "Agence Tanger - Fahs : Lotissement Sabrine n°42, Tanger" in message["agencies"]
    assert payloads_of(message) == ['/inform{"agency_id":"fes"}', '/inform{"agency_id":"tanger-fahs"}']
    assert backend.calls("GET", "/agencies/nearest")[0].url.params["place"] == "fes"
    fes = slots_set(events)["booking_options"]["options"][0]
    assert fes["d"]["address"] is None  # never the backend's placeholder text as an address


@pytest.mark.asyncio
async def test_agency_names_in_arabic_script_for_ar_and_ary(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/agencies/nearest", json={"place": {"id": "tanger", "name": "طنجة"}, "origin": {},
                                                 "agencies": [AGENCY_TANGER], "note": None, "lang": "ary"})
    await ActionAskAgency().run(dispatcher, make_tracker(slots={"city": "tanger"}, language="ary"), domain)
    message = message_for(dispatcher, "utter_ask_booking_form_agency_id")
    assert [b["title"] for b in message["buttons"]] == ["وكالة أنابيك طنجة"]


@pytest.mark.asyncio
async def test_an_unknown_place_is_asked_again(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/agencies/nearest", status=404, json={"detail": "Lieu inconnu"})
    events = await ActionAskAgency().run(dispatcher, make_tracker(slots={"city": "xyzzy"}), domain)
    assert responses_of(dispatcher) == ["utter_booking_place_unknown", "utter_ask_booking_form_city"]
    assert slots_set(events) == {"city": None, "requested_slot": "city"}


def slots_route(backend: FakeBackend, by_day: dict[str, list[str]]) -> None:
    """GET /agencies/{id}/slots answering from `by_day` (ISO date → starts), honouring from/days."""
    def handler(request: httpx.Request) -> httpx.Response:
        start = request.url.params.get("from", NOW.date().isoformat())
        days = int(request.url.params.get("days", "7"))
        first = datetime.fromisoformat(start).date()
        chosen = [iso for day, isos in sorted(by_day.items()) for iso in isos
                  if 0 <= (datetime.fromisoformat(day).date() - first).days < days]
        return httpx.Response(200, json=slots_answer(*chosen))

    backend.on("GET", "/agencies/tanger-fahs/slots", handler=handler)


WEEK = {
    "2027-01-11": [f"2027-01-11T{h}:00+01:00" for h in ("08:30", "09:00", "09:30", "10:00", "10:30")],
    "2027-01-12": [f"2027-01-12T{h}:00+01:00" for h in ("08:30", "09:00", "09:30", "10:00")],
    "2027-01-13": [f"2027-01-13T{h}:00+01:00" for h in ("08:30", "09:00")],
    "2027-01-14": [f"2027-01-14T{h}:00+01:00" for h in ("11:00",)],
}


@pytest.mark.asyncio
async def test_the_next_free_slots_over_several_days_then_later_dates(backend: FakeBackend, dispatcher, domain) -> None:
    slots_route(backend, WEEK)
    tracker = make_tracker(slots={**FILLED, "appointment_slot": None}, language="ary_latn")
    events = await ActionAskAppointmentSlot().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_ask_booking_form_appointment_slot")
    payloads = payloads_of(message)
    # At most 3 a day, 6 in all, then "later dates".
    assert [json.loads(p.removeprefix("/inform"))["appointment_slot"] for p in payloads[:-1]] == [
        *WEEK["2027-01-11"][:3], *WEEK["2027-01-12"][:3]]
    assert payloads[-1] == '/inform{"appointment_slot":"later"}'
    assert message["buttons"][0]["title"] == "letnin 11/01 · 08:30"
    assert message["buttons"][-1]["title"] == "Nharat okhrin ➡️"
    assert message["agency_name"] == "Agence Tanger - Fahs"
    assert slots_set(events)["booking_options"]["kind"] == "appointment_slot"
    assert backend.calls()[0].url.params["service"] == "business_plan"

    # "Later dates" continues after the last day shown.
    later = CollectingDispatcher()
    tracker = make_tracker(slots={**FILLED, "appointment_slot": None,
                                  "booking_slots_after": "2027-01-12T23:59:59+01:00"})
    await ActionAskAppointmentSlot().run(later, tracker, domain)
    shown = [b["payload"] for b in message_for(later, "utter_ask_booking_form_appointment_slot")["buttons"][:-1]]
    assert [json.loads(p.removeprefix("/inform"))["appointment_slot"] for p in shown] == [
        *WEEK["2027-01-13"], *WEEK["2027-01-14"]]


@pytest.mark.asyncio
async def test_a_day_asked_shows_that_days_slots_or_says_it_has_none(backend: FakeBackend, dispatcher, domain) -> None:
    slots_route(backend, WEEK)
    tracker = make_tracker(slots={**FILLED, "appointment_slot": None, "booking_slots_day": "2027-01-11"})
    events = await ActionAskAppointmentSlot().run(dispatcher, tracker, domain)
    shown = payloads_of(message_for(dispatcher, "utter_ask_booking_form_appointment_slot"))[:-1]
    assert len(shown) == 5 and all("2027-01-11" in p for p in shown)
    # The day stays the view: asked again, the person sees that day's times again.
    assert slots_set(events)["booking_slots_day"] == "2027-01-11"

    sunday = CollectingDispatcher()
    tracker = make_tracker(slots={**FILLED, "appointment_slot": None, "booking_slots_day": "2027-01-10"})
    events = await ActionAskAppointmentSlot().run(sunday, tracker, domain)
    assert responses_of(sunday) == ["utter_booking_no_slots_that_day", "utter_ask_booking_form_appointment_slot"]
    assert message_for(sunday, "utter_booking_no_slots_that_day")["day"] == "dimanche 10 janvier"
    assert slots_set(events)["booking_slots_day"] is None  # not said again when asked again


@pytest.mark.asyncio
async def test_no_free_slot_at_all_offers_another_agency(backend: FakeBackend, dispatcher, domain) -> None:
    slots_route(backend, {})
    backend.on("GET", "/agencies/nearest", json={"place": {"id": "tanger", "name": "Tanger"}, "origin": {},
                                                 "agencies": [AGENCY_TANGER], "note": None, "lang": "fr"})
    events = await ActionAskAppointmentSlot().run(dispatcher, make_tracker(slots={**FILLED, "appointment_slot": None}),
                                                  domain)
    assert responses_of(dispatcher) == ["utter_booking_no_slots", "utter_ask_booking_form_agency_id"]
    assert slots_set(events)["agency_id"] is None and slots_set(events)["requested_slot"] == "agency_id"


@pytest.mark.parametrize("lang", ["fr", "ar", "ary", "ary_latn"])
@pytest.mark.asyncio
async def test_the_summary_before_booking(catalogue: FakeBackend, dispatcher, domain, lang: str) -> None:
    await ActionAskBookingConfirmation().run(dispatcher, make_tracker(slots=FILLED, language=lang), domain)
    summary = message_for(dispatcher, "utter_booking_summary")
    assert summary["service_name"] == SERVICES[lang][1][1]
    assert summary["agency_name"] == "Agence Tanger - Fahs"
    assert summary["agency_address"] == "Lotissement Sabrine n°42, Tanger"
    assert summary["time"] == "09:00" and summary["phone"] == "06 12 34 56 78"
    variants = domain["responses"]["utter_booking_summary"]
    web = next(v for v in variants if not v.get("channel") and v["condition"][0]["value"] == lang)
    assert [b["payload"] for b in web["buttons"]] == ["/affirm", '/inform{{"booking_change":"menu"}}', "/stop"]
    # On WhatsApp, confirming also says yes or no to the WhatsApp reminder (the opt-in).
    whatsapp = next(v for v in variants if v.get("channel") == "whatsapp" and v["condition"][0]["value"] == lang)
    assert [b["payload"] for b in whatsapp["buttons"]] == [
        '/affirm{{"whatsapp_opt_in":"yes"}}', '/affirm{{"whatsapp_opt_in":"no"}}',
        '/inform{{"booking_change":"menu"}}', "/stop"]


@pytest.mark.asyncio
async def test_the_change_menu_instead_of_the_summary_when_asked(catalogue: FakeBackend, dispatcher, domain) -> None:
    events = await ActionAskBookingConfirmation().run(dispatcher, make_tracker(slots={**FILLED, "booking_menu": True}),
                                                      domain)
    assert responses_of(dispatcher) == ["utter_booking_change_menu"]
    assert slots_set(events) == {"booking_menu": False}


def test_the_change_menu_offers_no_phone_change_on_whatsapp(domain) -> None:
    for variant in domain["responses"]["utter_booking_change_menu"]:
        payloads = [b["payload"] for b in variant["buttons"]]
        assert any("appointment_slot" in p for p in payloads)
        assert any("phone" in p for p in payloads) is (variant.get("channel") != "whatsapp")


# -------------------------------------------------------------------------------- validation


@pytest.mark.asyncio
async def test_the_booking_starts_with_what_is_known(catalogue: FakeBackend, dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="bghit rdv f tanja", intent="book_appointment", activate=True,
                        entities=[entity("city", "tanger")], candidates={"city": "tanger"}, language="ary_latn")
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots is not None and slots["booking_confirmation"] is None
    assert "city" not in slots or slots["city"] == "tanger"
    assert dispatcher.messages == []


@pytest.mark.parametrize(("text", "day"), [("bghit rdv ghda f tanja", "2027-01-09"),
                                         ("je veux un rendez-vous lundi", "2027-01-11"),
                                         ("بغيت موعد نهار الخميس", "2027-01-14"), ("bghit rdv f tanja", None)])
@pytest.mark.asyncio
async def test_a_day_in_the_request_is_where_the_times_offered_start(catalogue: FakeBackend, dispatcher, domain,
                                                                     text: str, day: str | None) -> None:
    tracker = form_turn("booking_form", text=text, intent="book_appointment", activate=True)
    assert (await validate(ValidateBookingForm(), tracker, dispatcher, domain))["booking_slots_day"] == day


@pytest.mark.parametrize("requested", ["service", "agency_id"])
@pytest.mark.asyncio
async def test_a_day_said_when_asked_something_else_is_kept_for_later(dispatcher, domain, requested: str) -> None:
    """"ghda f l3chiya" when asked the agency: no "I did not understand", and the times offered
    later start on that day."""
    before = SERVICE_OPTIONS if requested == "service" else {"service": "business_plan", "city": "tanger",
                                                               **AGENCY_OPTIONS}
    tracker = form_turn("booking_form", text="ghda f l3chiya", requested=requested, before=before,
                        language="ary_latn")
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) == {"booking_slots_day": "2027-01-09"}
    assert dispatcher.messages == []


@pytest.mark.parametrize(("text", "chosen"), [("bghit nakhod rdv tma", "tanger-fahs"),
                                            ("je veux un rendez-vous dans cette agence", "tanger-fahs"),
                                            ("بغيت موعد فهاد الوكالة", "tanger-fahs"), ("bghit nakhod rdv", None)])
@pytest.mark.asyncio
async def test_an_appointment_there_is_at_the_agency_just_shown(backend: FakeBackend, dispatcher, domain, text: str,
                                                                chosen: str | None) -> None:
    backend.on("GET", "/agencies/tanger-fahs", json={**AGENCY_FAHS, "services": [], "hours": []})
    # Rasa hands the slots already filled to a starting form as candidates (the place shown).
    tracker = form_turn("booking_form", text=text, intent="book_appointment", activate=True,
                        before={"city": "tanger", "nearest_agency_id": "tanger-fahs"}, candidates={"city": "tanger"})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots is not None and slots.get("agency_id") == chosen


@pytest.mark.asyncio
async def test_a_new_place_in_the_request_is_not_there(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="bghit rdv tma f fes", intent="book_appointment", activate=True,
                        entities=[entity("city", "fes")], candidates={"city": "fes"},
                        before={"city": "tanger", "nearest_agency_id": "tanger-fahs"})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots is not None and "agency_id" not in slots


@pytest.mark.asyncio
async def test_a_place_in_the_request_is_found_when_the_nlu_missed_it(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/places/resolve", json={"id": "tanger", "name": "Tanger", "fuzzy": False, "common_word": False})
    tracker = form_turn("booking_form", text="bghit rdv f tanja", intent="book_appointment", activate=True)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["city"] == "tanger"
    assert backend.calls("GET", "/places/resolve")[0].url.params["q"] == "bghit rdv f tanja"


@pytest.mark.asyncio
async def test_a_service_from_a_button_of_the_services_list_is_kept(catalogue: FakeBackend, dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text='/book_appointment{"service":"business_plan"}', intent="book_appointment",
                        activate=True, entities=[entity("service", "business_plan")],
                        candidates={"service": "business_plan"})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["service"] == "business_plan"


@pytest.mark.parametrize(("text", "language"), [
    ("je voudrais un rendez-vous pour un business plan à Fès", "fr"),
    ("bghit maw3id 3la lbusiness plan", "ary_latn"),
    ("بغيت موعد باش نوجد البيزنس بلان", "ary"),
])
@pytest.mark.asyncio
async def test_a_service_named_in_the_request_is_not_asked(catalogue: FakeBackend, dispatcher, domain, text: str,
                                                          language: str) -> None:
    tracker = form_turn("booking_form", text=text, intent="book_appointment", activate=True, language=language)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["service"] == "business_plan"
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", [
    "je veux un rendez-vous pour un financement",  # not in this catalogue
    "un rendez-vous pour des informations",  # information names no one service
    "bghit rdv f tanja",
])
@pytest.mark.asyncio
async def test_otherwise_the_service_is_asked(catalogue: FakeBackend, dispatcher, domain, text: str) -> None:
    tracker = form_turn("booking_form", text=text, intent="book_appointment", activate=True)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert not slots.get("service")
    assert dispatcher.messages == []


@pytest.mark.asyncio
async def test_a_program_named_in_the_request_goes_with_the_booking(catalogue: FakeBackend, dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="rdv pour forsa", intent="book_appointment", activate=True,
                        entities=[entity("program", "forsa")])
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["booking_program"] == "forsa"


@pytest.mark.asyncio
async def test_on_whatsapp_the_phone_is_the_sender_and_never_asked(catalogue: FakeBackend, dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="bghit maw3id", intent="book_appointment", activate=True,
                        channel="whatsapp", sender_id=PHONE)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["phone"] == PHONE


@pytest.mark.parametrize(("text", "service"), [
    ("business plan", "business_plan"), ("البيزنس بلان", "business_plan"), ("2", "business_plan"),
    ("الأول", "information_orientation"), ("information", "information_orientation"),
])
@pytest.mark.asyncio
async def test_a_typed_service_is_resolved_against_the_offered_ones(dispatcher, domain, text: str,
                                                                    service: str) -> None:
    tracker = form_turn("booking_form", text=text, requested="service", before=SERVICE_OPTIONS)
    assert (await validate(ValidateBookingForm(), tracker, dispatcher, domain))["service"] == service


@pytest.mark.asyncio
async def test_an_unknown_answer_is_asked_again_with_a_hint(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="kkkk", requested="service", before=SERVICE_OPTIONS)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots == {"service": None}
    assert responses_of(dispatcher) == ["utter_booking_choose_again"]


@pytest.mark.parametrize("intent", sorted(LEAVE_INTENTS | DIGRESSION_INTENTS))
@pytest.mark.asyncio
async def test_leaving_and_digressions_are_left_to_the_rules(dispatcher, domain, intent: str) -> None:
    tracker = form_turn("booking_form", text="stop", intent=intent, requested="full_name", before=FILLED)
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) is None
    assert dispatcher.messages == []


SWITCHING_FORMS = [ValidateBookingForm, ValidateAppointmentsForm, ValidateCancelForm, ValidateRescheduleForm]


@pytest.mark.parametrize(("form", "intent"), [(f, i) for f in SWITCHING_FORMS for i in sorted(f.switches)])
@pytest.mark.asyncio
async def test_a_request_for_another_flow_leaves_the_form_to_the_rules(dispatcher, domain, form: type,
                                                                       intent: str) -> None:
    """"en fait je veux annuler mon rdv" while booking: no event, so the rules start that flow."""
    requested = "service" if form is ValidateBookingForm else "appointment_ref"
    tracker = form_turn(form.form, text="en fait je veux annuler mon rdv", intent=intent, requested=requested,
                        before={"phone": PHONE})
    assert await validate(form(), tracker, dispatcher, domain) is None
    assert dispatcher.messages == []


def test_while_booking_changing_the_date_is_no_request_to_move_an_appointment() -> None:
    """"je veux changer la date" while booking changes this booking's time (change_request)."""
    assert "reschedule_appointment" not in ValidateBookingForm.switches
    assert "book_appointment" not in ValidateRescheduleForm.switches


@pytest.mark.asyncio
async def test_a_place_when_asked_the_service_is_kept_and_the_service_asked_again(dispatcher, domain) -> None:
    """"ana f sala" when asked the service: the place was understood, so no "I did not understand"."""
    tracker = form_turn("booking_form", text="ana f sala", requested="service", before=SERVICE_OPTIONS,
                        entities=[entity("city", "sale")], candidates={"city": "sale"}, language="ary_latn")
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) == {"city": "sale"}
    assert dispatcher.messages == []


@pytest.mark.asyncio
async def test_a_language_switch_asks_the_question_again_silently(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="b darija 3afak", intent="choose_language", requested="service",
                        before=SERVICE_OPTIONS, language="ary_latn")
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) == {"service": None}
    assert dispatcher.messages == []


@pytest.mark.asyncio
async def test_another_city_while_asked_the_name_changes_the_place(dispatcher, domain) -> None:
    """"non, plutôt à Fès": the agency and the slot of Tanger go, the form asks for an agency in Fès."""
    tracker = form_turn("booking_form", text="non, plutôt à Fès", intent="deny", requested="full_name",
                        entities=[entity("city", "fes")], candidates={"city": "fes"},
                        before={**FILLED, "full_name": None, "phone": None})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["city"] == "fes"
    assert slots["agency_id"] is None and slots["appointment_slot"] is None and slots["booking_confirmation"] is None
    assert "full_name" not in slots  # not taken as a name


@pytest.mark.asyncio
async def test_a_surname_that_is_a_city_is_not_a_change_of_place(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="Mohamed Safi", intent="inform", requested="full_name",
                        entities=[entity("city", "safi")], candidates={"city": "safi"},
                        before={**FILLED, "full_name": None, "phone": None})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["city"] == "tanger" and slots["full_name"] == "Mohamed Safi"
    assert "agency_id" not in slots


@pytest.mark.asyncio
async def test_a_correction_the_nlu_missed_is_found_by_the_gazetteer(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/places/resolve", json={"id": "fes", "name": "Fès", "fuzzy": False, "common_word": False})
    tracker = form_turn("booking_form", text="non, plutôt à Fès", intent="deny", requested="booking_confirmation",
                        before=FILLED)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["city"] == "fes" and slots["agency_id"] is None and slots["appointment_slot"] is None


@pytest.mark.parametrize(("text", "intent", "language", "cleared"), [
    ("la, bdel lmdina", "deny", "ary_latn", {"city", "agency_id", "appointment_slot"}),
    ("لا، بدل المدينة", "deny", "ary", {"city", "agency_id", "appointment_slot"}),
    ("بدل الوقت", "reschedule_appointment", "ary", {"appointment_slot"}),
    ("changer l'heure", "reschedule_appointment", "fr", {"appointment_slot"}),
    ("أريد تغيير الوكالة", "inform", "ar", {"agency_id", "appointment_slot"}),
    ("non, changer le numéro", "deny", "fr", {"phone"}),
    ("bdel smiya", "inform", "ary_latn", {"full_name"}),
])
@pytest.mark.asyncio
async def test_typed_corrections_clear_that_answer_and_what_depends_on_it(backend: FakeBackend, dispatcher, domain,
                                                                         text: str, intent: str, language: str,
                                                                         cleared: set[str]) -> None:
    backend.on("GET", "/places/resolve", status=404, json={"detail": "unknown"})
    tracker = form_turn("booking_form", text=text, intent=intent, requested="booking_confirmation", before=FILLED,
                        language=language)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert {k for k in ("service", "city", "agency_id", "appointment_slot", "full_name", "phone") if
            k in slots and slots[k] is None} == cleared
    assert slots["booking_confirmation"] is None


@pytest.mark.asyncio
async def test_a_new_day_while_asked_something_else_changes_the_time(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/places/resolve", status=404, json={"detail": "unknown"})
    tracker = form_turn("booking_form", text="non, plutôt mardi", intent="deny", requested="full_name",
                        before={**FILLED, "full_name": None, "phone": None})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["appointment_slot"] is None and slots["booking_slots_day"] == "2027-01-12"
    assert "full_name" not in slots


@pytest.mark.parametrize("field", ["service", "city", "agency_id", "appointment_slot", "full_name", "phone"])
@pytest.mark.asyncio
async def test_the_change_menu_buttons_clear_the_chosen_answer(dispatcher, domain, field: str) -> None:
    tracker = form_turn("booking_form", text=f'/inform{{"booking_change":"{field}"}}', requested="booking_confirmation",
                        entities=[entity("booking_change", field)], before=FILLED)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots[field] is None and slots["booking_confirmation"] is None


@pytest.mark.parametrize(("text", "intent"), [("non", "deny"), ("modifier", "inform"), ("nbdel", "inform"),
                                              ('/inform{"booking_change":"menu"}', "inform")])
@pytest.mark.asyncio
async def test_no_or_change_at_the_summary_shows_the_change_menu(dispatcher, domain, text: str, intent: str) -> None:
    entities = [entity("booking_change", "menu")] if "menu" in text else []
    tracker = form_turn("booking_form", text=text, intent=intent, requested="booking_confirmation", before=FILLED,
                        entities=entities)
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots == {"booking_confirmation": None, "booking_menu": True}


@pytest.mark.asyncio
async def test_yes_at_the_summary_confirms(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="wakha", intent="affirm", requested="booking_confirmation", before=FILLED)
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) == {"booking_confirmation": "yes"}


@pytest.mark.asyncio
async def test_another_agency_from_an_earlier_button_drops_the_slot(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text='/inform{"agency_id":"tanger"}', requested="booking_confirmation",
                        entities=[entity("agency_id", "tanger")], candidates={"agency_id": "tanger"},
                        before={**FILLED, **AGENCY_OPTIONS})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["agency_id"] == "tanger" and slots["appointment_slot"] is None


@pytest.mark.asyncio
async def test_a_typed_agency_is_resolved_and_its_details_kept(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="fahs", requested="agency_id", before={**FILLED, "agency_id": None,
                                                                                   **AGENCY_OPTIONS})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["agency_id"] == "tanger-fahs" and slots["booking_agency"] == FAHS_INFO


SOUSS_OPTIONS = offered("agency_id", [
    Option("agadir", "Agence Agadir", ("Agadir", "أكادير"),
           data={**FAHS_INFO, "id": "agadir", "name": "Agence Agadir"}),
    Option("inezgane", "Agence Inezgane", ("Inezgane", "إنزكان"),
           data={**FAHS_INFO, "id": "inezgane", "name": "Agence Inezgane"}),
])


@pytest.mark.parametrize(("text", "place"), [("إنزكان", "inezgane"), ("f inezgane", "inezgane"),
                                             ("Agadir", "agadir")])
@pytest.mark.asyncio
async def test_a_place_of_an_offered_agency_picks_that_agency(dispatcher, domain, text: str, place: str) -> None:
    """Asked which agency, the user types the place of one of them: that one, not a new list."""
    tracker = form_turn("booking_form", text=text, requested="agency_id", entities=[entity("city", place)],
                        candidates={"city": place},
                        before={**FILLED, "city": "agadir", "agency_id": None, **SOUSS_OPTIONS})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["agency_id"] == place and slots["booking_agency"]["id"] == place
    assert "city" not in slots and dispatcher.messages == []


@pytest.mark.parametrize(("text", "intent", "place"), [("non, plutôt Inezgane", "deny", "inezgane"),
                                                       ("Fès", "inform", "fes")])
@pytest.mark.asyncio
async def test_a_new_place_when_asked_the_agency_lists_agencies_there(dispatcher, domain, text: str, intent: str,
                                                                      place: str) -> None:
    tracker = form_turn("booking_form", text=text, intent=intent, requested="agency_id",
                        entities=[entity("city", place)], candidates={"city": place},
                        before={**FILLED, "city": "agadir", "agency_id": None, **SOUSS_OPTIONS})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["city"] == place and slots["agency_id"] is None


@pytest.mark.parametrize(("text", "chosen"), [("lundi 9h30", SLOT_MON_930), ("letnin m3a 9", SLOT_MON_9),
                                              ("الاثنين مع 9 و نص", SLOT_MON_930), ("1", SLOT_MON_9),
                                              ("lundi", None), ("nhar letnin", None)])
@pytest.mark.asyncio
async def test_a_typed_time_picks_an_offered_slot(backend: FakeBackend, dispatcher, domain, text: str,
                                                  chosen: str | None) -> None:
    slots_route(backend, {"2027-01-11": [SLOT_MON_9, SLOT_MON_930]})
    tracker = form_turn("booking_form", text=text, requested="appointment_slot",
                        before={**FILLED, "appointment_slot": None, **slot_options(SLOT_MON_9, SLOT_MON_930)})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    if chosen:
        assert slots["appointment_slot"] == chosen
    else:
        assert slots["appointment_slot"] is None and slots["booking_slots_day"] == "2027-01-11"


@pytest.mark.asyncio
async def test_a_typed_time_not_offered_but_free_is_taken(backend: FakeBackend, dispatcher, domain) -> None:
    slots_route(backend, WEEK)
    tracker = form_turn("booking_form", text="mardi 10h", requested="appointment_slot",
                        before={**FILLED, "appointment_slot": None, **slot_options(SLOT_MON_9)})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["appointment_slot"] == SLOT_TUE_10
    assert backend.calls()[0].url.params["from"] == "2027-01-12"


@pytest.mark.asyncio
async def test_a_typed_time_that_is_not_free_shows_that_day(backend: FakeBackend, dispatcher, domain) -> None:
    slots_route(backend, WEEK)
    tracker = form_turn("booking_form", text="mardi 15h", requested="appointment_slot",
                        before={**FILLED, "appointment_slot": None, **slot_options(SLOT_MON_9)})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert responses_of(dispatcher) == ["utter_booking_time_not_free"]
    assert slots["appointment_slot"] is None and slots["booking_slots_day"] == "2027-01-12"


@pytest.mark.parametrize("later", ["autres dates", "moraha", "تواريخ أخرى", '/inform{"appointment_slot":"later"}'])
@pytest.mark.asyncio
async def test_later_dates_start_after_the_last_day_offered(dispatcher, domain, later: str) -> None:
    button = later.startswith("/")
    tracker = form_turn("booking_form", text=later, requested="appointment_slot",
                        entities=[entity("appointment_slot", "later")] if button else [],
                        candidates={"appointment_slot": "later"} if button else None,
                        before={**FILLED, "appointment_slot": None, **slot_options(SLOT_MON_9, SLOT_TUE_10)})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["appointment_slot"] is None
    assert slots["booking_slots_after"] == "2027-01-12T23:59:59+01:00"


@pytest.mark.asyncio
async def test_a_slot_in_the_past_is_refused(dispatcher, domain) -> None:
    past = "2027-01-08T08:30:00+01:00"
    tracker = form_turn("booking_form", text="", requested="appointment_slot",
                        entities=[entity("appointment_slot", past)],
                        candidates={"appointment_slot": past}, before={**FILLED, "appointment_slot": None})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["appointment_slot"] is None and responses_of(dispatcher) == ["utter_booking_choose_again"]


@pytest.mark.parametrize(("text", "name"), [
    ("Salma Benali", "Salma Benali"), ("je m'appelle salma benali", "Salma Benali"),
    ("smiti Youssef Alami", "Youssef Alami"),
    ("اسمي سلمى بنعلي", "سلمى بنعلي"), ("Fatima Zahra El Idrissi", "Fatima Zahra El Idrissi"),
])
@pytest.mark.asyncio
async def test_a_name_is_taken_from_the_reply(dispatcher, domain, text: str, name: str) -> None:
    tracker = form_turn("booking_form", text=text, intent="inform", requested="full_name",
                        before={**FILLED, "full_name": None, "phone": None})
    assert (await validate(ValidateBookingForm(), tracker, dispatcher, domain))["full_name"] == name


@pytest.mark.asyncio
async def test_a_name_and_a_phone_in_one_reply(dispatcher, domain) -> None:
    tracker = form_turn("booking_form", text="Salma Benali 0612345678", requested="full_name",
                        before={**FILLED, "full_name": None, "phone": None})
    slots = await validate(ValidateBookingForm(), tracker, dispatcher, domain)
    assert slots["full_name"] == "Salma Benali" and slots["phone"] == PHONE


@pytest.mark.parametrize("text", ["non", "12345", "oui", "a"])
def test_what_is_not_a_name(text: str) -> None:
    assert clean_name(text) is None


@pytest.mark.parametrize(("text", "phone"), [
    ("0612345678", PHONE), ("06 12 34 56 78", PHONE), ("+212 6 12 34 56 78", PHONE), ("٠٦١٢٣٤٥٦٧٨", PHONE),
    ("mon num c'est 07.78.45.12.90", "+212778451290"),
])
@pytest.mark.asyncio
async def test_a_moroccan_mobile_is_accepted_in_e164(dispatcher, domain, text: str, phone: str) -> None:
    tracker = form_turn("booking_form", text=text, requested="phone", before={**FILLED, "phone": None})
    assert (await validate(ValidateBookingForm(), tracker, dispatcher, domain))["phone"] == phone
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", ["12345", "0512345678", "+33612345678", "06123"])
@pytest.mark.asyncio
async def test_an_invalid_phone_is_explained_and_asked_again(dispatcher, domain, text: str) -> None:
    tracker = form_turn("booking_form", text=text, requested="phone", before={**FILLED, "phone": None})
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) == {"phone": None}
    assert responses_of(dispatcher) == ["utter_booking_phone_invalid"]


# ----------------------------------------------------------------------------------- booking


def confirmed(**extra: Any) -> Tracker:
    return make_tracker(text="oui", intent="affirm", slots={**FILLED, "booking_confirmation": "yes", **extra},
                        sender_id="conversation-42")


@pytest.mark.asyncio
async def test_booking_posts_the_confirmed_choices_and_gives_the_reference(backend: FakeBackend, dispatcher,
                                                                           domain) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment(starts_at=SLOT_MON_9, agency_id="tanger-fahs"))
    events = await ActionBookAppointment().run(dispatcher, confirmed(), domain)
    request = backend.calls("POST", "/appointments")[0]
    assert FakeBackend.body(request) == {"full_name": "Salma Benali", "phone": PHONE, "agency_id": "tanger-fahs",
                                         "service": "business_plan", "starts_at": SLOT_MON_9, "language": "fr",
                                         "channel": "web"}
    assert request.headers["Authorization"] == "Bearer test-service-token"
    assert len(request.headers["Idempotency-Key"]) >= 8
    done = message_for(dispatcher, "utter_booking_done")
    assert done["reference"] == "K7M2QX"
    assert (done["day"], done["time"]) == ("lundi 11 janvier", "09:00")  # Africa/Casablanca
    assert done["agency_address"] == "Lotissement Sabrine n°42, Tanger"
    slots = slots_set(events)
    assert slots["appointment_outcome"] == "booked" and slots["booking_count"] == 1
    assert slots["appointment_slot"] is None and slots["service"] is None and "phone" not in slots
    # The appointment the conversation is now about (session_reference).
    assert slots["appointment_ref"] == "K7M2QX"
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_the_time_is_given_in_morocco_whatever_offset_the_backend_uses(backend: FakeBackend, dispatcher,
                                                                            domain) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment(starts_at="2027-01-11T08:00:00+00:00"))
    await ActionBookAppointment().run(dispatcher, confirmed(), domain)
    assert message_for(dispatcher, "utter_booking_done")["time"] == "09:00"


@pytest.mark.asyncio
async def test_an_unverified_address_is_to_be_confirmed(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment())
    info = {"id": "fes", "name": "Agence ANAPEC Fès", "name_ar": None, "city": "Fès", "address": None}
    await ActionBookAppointment().run(dispatcher, confirmed(agency_id="fes", booking_agency=info), domain)
    assert message_for(dispatcher, "utter_booking_done")["agency_address"] == "adresse à confirmer auprès de l'ANAPEC"


@pytest.mark.asyncio
async def test_whatsapp_bookings_use_the_sender_and_say_so(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment())
    tracker = make_tracker(text="ah", intent="affirm", slots={**FILLED, "booking_confirmation": "yes"},
                           channel="whatsapp", sender_id=PHONE, language="ary_latn")
    await ActionBookAppointment().run(dispatcher, tracker, domain)
    body = FakeBackend.body(backend.calls("POST", "/appointments")[0])
    assert body["channel"] == "whatsapp" and body["language"] == "ary_latn"


@pytest.mark.asyncio
async def test_the_idempotency_key_is_stable_across_retries(backend: FakeBackend, domain) -> None:
    """The backend is down on the first confirmation (maybe after booking): confirming again
    sends the same key, so the backend replays the booking instead of making a second one."""
    backend.down = True
    first = CollectingDispatcher()
    events = await ActionBookAppointment().run(first, confirmed(), domain)
    assert responses_of(first) == ["utter_backend_unavailable"]
    assert slots_set(events) == {"booking_confirmation": None, "appointment_outcome": "failed"}  # answers kept
    backend.down = False
    backend.on("POST", "/appointments", status=201, json=appointment())
    second = CollectingDispatcher()
    await ActionBookAppointment().run(second, confirmed(), domain)
    keys = [r.headers["Idempotency-Key"] for r in backend.calls("POST", "/appointments")]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert responses_of(second) == ["utter_booking_done"]


@pytest.mark.asyncio
async def test_another_booking_gets_another_key(backend: FakeBackend, domain) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment())
    for tracker in (confirmed(), confirmed(appointment_slot=SLOT_TUE_10), confirmed(booking_count=1),
                    confirmed(full_name="Youssef Alami")):
        await ActionBookAppointment().run(CollectingDispatcher(), tracker, domain)
    keys = [r.headers["Idempotency-Key"] for r in backend.calls("POST", "/appointments")]
    assert len(set(keys)) == 4


@pytest.mark.asyncio
async def test_a_slot_taken_meanwhile_offers_the_next_ones(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments", status=409, json={"detail": "this slot is full: choose another time"})
    events = await ActionBookAppointment().run(dispatcher, confirmed(), domain)
    assert responses_of(dispatcher) == ["utter_booking_slot_taken"]
    slots = slots_set(events)
    assert slots["appointment_outcome"] == "slot_taken"
    assert slots["appointment_slot"] is None and slots["booking_confirmation"] is None
    assert "service" not in slots and "agency_id" not in slots  # the rest is kept


@pytest.mark.asyncio
async def test_a_person_already_booked_at_that_time(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments", status=409,
               json={"detail": "this person already has an appointment at that time (K7M2QX, 2027-01-11 09:00)"})
    events = await ActionBookAppointment().run(dispatcher, confirmed(), domain)
    assert responses_of(dispatcher) == ["utter_booking_person_busy"]
    assert slots_set(events)["appointment_outcome"] == "slot_taken"


@pytest.mark.asyncio
async def test_a_refused_booking_books_nothing(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments", status=422, json={"detail": "unknown agency: x"})
    events = await ActionBookAppointment().run(dispatcher, confirmed(), domain)
    assert responses_of(dispatcher) == ["utter_booking_rejected"]
    assert slots_set(events)["appointment_outcome"] == "failed"


@pytest.mark.asyncio
async def test_nothing_is_booked_without_a_confirmation(backend: FakeBackend, dispatcher, domain) -> None:
    tracker = make_tracker(slots={**FILLED, "booking_confirmation": None})
    events = await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert backend.calls() == [] and dispatcher.messages == []
    assert slots_set(events)["appointment_outcome"] == "failed"


@pytest.mark.asyncio
async def test_stopping_the_booking_forgets_its_choices_not_the_person(dispatcher, domain) -> None:
    events = await ActionStopBooking().run(dispatcher, make_tracker(slots=FILLED), domain)
    slots = slots_set(events)
    assert responses_of(dispatcher) == ["utter_booking_stopped"]
    assert slots["service"] is None and slots["appointment_slot"] is None and slots["requested_slot"] is None
    assert "full_name" not in slots and "phone" not in slots and "city" not in slots


# ------------------------------------------------------------------ my appointments, cancel, move


@pytest.mark.asyncio
async def test_my_appointments_on_whatsapp_are_all_the_senders(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/appointments", json=[appointment(), appointment("Q2W3E4", SLOT_TUE_10)])
    tracker = form_turn("appointments_form", text="chno houma lmawa3id dyali", intent="my_appointments", activate=True,
                        channel="whatsapp", sender_id=PHONE)
    slots = await validate(ValidateAppointmentsForm(), tracker, dispatcher, domain)
    assert slots["phone"] == PHONE and slots["appointment_ref"] == ALL_APPOINTMENTS
    assert backend.calls("GET", "/appointments")[0].url.params["phone"] == PHONE
    assert backend.calls("GET", "/appointments")[0].url.params["lang"] == "fr"


@pytest.mark.asyncio
async def test_my_appointments_on_the_web_ask_a_valid_phone(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/appointments", json=[appointment()])
    tracker = form_turn("appointments_form", text="0612", requested="phone")
    assert await validate(ValidateAppointmentsForm(), tracker, dispatcher, domain) == {"phone": None}
    assert responses_of(dispatcher) == ["utter_booking_phone_invalid"]
    good = CollectingDispatcher()
    tracker = form_turn("appointments_form", text="06 12 34 56 78", requested="phone")
    slots = await validate(ValidateAppointmentsForm(), tracker, good, domain)
    # The number is taken, but nothing about its appointments is said or chosen yet.
    assert slots["phone"] == PHONE and "appointment_ref" not in slots
    assert responses_of(good) == []


@pytest.mark.parametrize("form", [ValidateAppointmentsForm, ValidateCancelForm, ValidateRescheduleForm])
@pytest.mark.parametrize("listed", [[], [appointment()], [appointment(), appointment("Q2W3E4", SLOT_TUE_10)]])
@pytest.mark.asyncio
async def test_on_the_web_a_typed_number_reveals_nothing_without_the_reference(
        backend: FakeBackend, dispatcher, domain, form: type, listed: list[dict[str, Any]]) -> None:
    backend.on("GET", "/appointments", json=listed)
    action = form()
    tracker = form_turn(action.form, text="06 12 34 56 78", requested="phone", before={"phone": None})
    slots = await validate(action, tracker, dispatcher, domain)
    # Whether the number has no, one or several appointments, the same: nothing said, none chosen.
    assert responses_of(dispatcher) == []
    assert slots["phone"] == PHONE and "appointment_ref" not in slots
    options = slots["booking_options"]

    asked = CollectingDispatcher()
    ask = {"appointments_form": ActionAskAppointmentsAppointmentRef, "cancel_form": ActionAskCancelAppointmentRef,
           "reschedule_form": ActionAskRescheduleAppointmentRef}[action.form]()
    await ask.run(asked, make_tracker(slots={"phone": PHONE, "booking_options": options}), domain)
    assert responses_of(asked) == ["utter_ask_appointment_reference"]
    assert not asked.messages[0].get("buttons") and "K7M2QX" not in json.dumps(asked.messages)

    # A date, a position in a list, "I forgot it", another number's reference: not a proof. A
    # reply with no reference in it gets what else works (WhatsApp, the agency, a callback).
    for text, response in (("lundi", "missing"), ("2", "missing"), ("le premier", "missing"),
                           ("nsit la référence", "missing"), ("ZZZZ99", "unknown"), ("ref zz-99zz", "unknown")):
        refused = CollectingDispatcher()
        turn = form_turn(action.form, text=text, requested="appointment_ref",
                         before={"phone": PHONE, "booking_options": options})
        assert await validate(action, turn, refused, domain) == {"appointment_ref": None}, text
        assert responses_of(refused) == [f"utter_appointment_reference_{response}"], text


def record(reference: str = "K7M2QX", starts_at: str = SLOT_MON_9) -> dict[str, Any]:
    """An appointment as the forms remember it (actions.booking.appointment_record)."""
    return appointment_record(_appointment(appointment(reference, starts_at)))


@pytest.mark.parametrize("text", ["K7M2QX", "ma référence : k7m-2qx", "ref k7m2qx 3afak"])
@pytest.mark.asyncio
async def test_on_the_web_the_reference_with_its_number_chooses_the_appointment(dispatcher, domain,
                                                                               text: str) -> None:
    options = options_to_slot("appointment_ref", [Option("K7M2QX", "K7M2QX", data=record()),
                                                  Option("Q2W3E4", "Q2W3E4", data=record("Q2W3E4", SLOT_TUE_10))])
    turn = form_turn("cancel_form", text=text, requested="appointment_ref",
                     before={"phone": PHONE, "booking_options": options})
    slots = await validate(ValidateCancelForm(), turn, dispatcher, domain)
    assert slots["appointment_ref"] == "K7M2QX" and slots["appointment_info"]["reference"] == "K7M2QX"


@pytest.mark.asyncio
async def test_on_the_web_a_reference_given_with_the_request_is_used(backend: FakeBackend, dispatcher,
                                                                    domain) -> None:
    backend.on("GET", "/appointments", json=[appointment(), appointment("Q2W3E4", SLOT_TUE_10)])
    tracker = form_turn("cancel_form", text="annuler Q2W3E4 06 12 34 56 78", intent="cancel_appointment",
                        activate=True, candidates={"phone": PHONE},
                        entities=[{"entity": "appointment_ref", "value": "Q2W3E4"}])
    slots = await validate(ValidateCancelForm(), tracker, dispatcher, domain)
    assert slots["appointment_ref"] == "Q2W3E4" and slots["appointment_info"]["reference"] == "Q2W3E4"


BOOKED_HERE = [action_event("action_book_appointment"), slot_event("booking_count", 1),
               slot_event("appointment_ref", "Q2W3E4")]
OPENED_HERE = [action_event("appointments_form"), slot_event("appointment_ref", "Q2W3E4"),
               slot_event("appointment_info", record("Q2W3E4", SLOT_TUE_10))]


def _web_request(form: str, intent: str, earlier: list[dict[str, Any]]) -> Tracker:
    """A web visitor whose number is known asks `intent`, after the `earlier` events (the form
    starts: Rasa has it validate the number already known)."""
    tracker = form_turn(form, text="...", intent=intent, activate=True, before={"phone": PHONE},
                        candidates={"phone": PHONE})
    tracker.events[:0] = [{"event": "session_started"}, action_event("action_listen"), *earlier]
    return tracker


@pytest.mark.parametrize("form", [ValidateAppointmentsForm, ValidateCancelForm, ValidateRescheduleForm])
@pytest.mark.parametrize("earlier", [BOOKED_HERE, OPENED_HERE], ids=["booked", "opened"])
@pytest.mark.asyncio
async def test_on_the_web_the_appointment_of_this_session_is_not_asked_for_again(
        backend: FakeBackend, dispatcher, domain, form: type, earlier: list[dict[str, Any]]) -> None:
    backend.on("GET", "/appointments", json=[appointment(), appointment("Q2W3E4", SLOT_TUE_10)])
    action = form()
    intent = {"appointments_form": "my_appointments", "cancel_form": "cancel_appointment",
              "reschedule_form": "reschedule_appointment"}[action.form]
    slots = await validate(action, _web_request(action.form, intent, earlier), dispatcher, domain)
    assert slots["appointment_ref"] == "Q2W3E4" and slots["appointment_info"]["reference"] == "Q2W3E4"
    # The backend still vouches for it: it is one of the number's upcoming appointments.
    assert backend.calls("GET", "/appointments")[0].url.params["phone"] == PHONE
    assert responses_of(dispatcher) == []


BOTH = [appointment(), appointment("Q2W3E4", SLOT_TUE_10)]


@pytest.mark.parametrize(("earlier", "upcoming"), [
    # booked in an earlier session (the in-memory store sends every session),
    ([*BOOKED_HERE, {"event": "session_started"}], BOTH),
    # two of them in this session: which one is meant is asked,
    ([*BOOKED_HERE, action_event("action_book_appointment"), slot_event("appointment_ref", "K7M2QX")], BOTH),
    # a reference set by anything but a booking or an opened appointment,
    ([action_event("cancel_form"), slot_event("appointment_ref", "Q2W3E4")], BOTH),
    # booked here, then cancelled: no longer among the number's upcoming appointments.
    (BOOKED_HERE, [appointment()]),
], ids=["earlier-session", "two", "not-proven", "cancelled-since"])
@pytest.mark.asyncio
async def test_on_the_web_otherwise_the_reference_is_asked(backend: FakeBackend, dispatcher, domain,
                                                          earlier: list[dict[str, Any]],
                                                          upcoming: list[dict[str, Any]]) -> None:
    backend.on("GET", "/appointments", json=upcoming)
    slots = await validate(ValidateCancelForm(), _web_request("cancel_form", "cancel_appointment", earlier),
                           dispatcher, domain)
    assert not slots.get("appointment_info") and not slots.get("appointment_ref")


@pytest.mark.asyncio
async def test_on_the_web_my_appointments_shows_only_the_one_proven(backend: FakeBackend, dispatcher,
                                                                   domain) -> None:
    backend.on("GET", "/appointments", json=[appointment(), appointment("Q2W3E4", SLOT_TUE_10)])
    info = record("Q2W3E4", SLOT_TUE_10)
    await ActionListAppointments().run(dispatcher, make_tracker(
        slots={"phone": PHONE, "appointment_ref": "Q2W3E4", "appointment_info": info}), domain)
    listed = message_for(dispatcher, "utter_appointments_list")
    assert "Q2W3E4" in listed["appointments"] and "K7M2QX" not in listed["appointments"]
    assert backend.calls("GET", "/appointments") == []


@pytest.mark.parametrize("lang", ["fr", "ar", "ary", "ary_latn"])
@pytest.mark.asyncio
async def test_the_list_of_appointments(backend: FakeBackend, dispatcher, domain, lang: str) -> None:
    backend.on("GET", "/appointments", json=[appointment(), appointment("Q2W3E4", SLOT_TUE_10)])
    await ActionListAppointments().run(dispatcher, make_tracker(slots={"phone": PHONE}, language=lang,
                                                                channel="whatsapp", sender_id=PHONE), domain)
    listed = message_for(dispatcher, "utter_appointments_list")
    assert "K7M2QX" in listed["appointments"] and "Q2W3E4" in listed["appointments"]
    asked = backend.calls("GET", "/appointments")[0].url.params
    # Named in the conversation's language, whatever language each was booked in.
    assert asked["phone"] == PHONE and asked["lang"] == lang
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_no_appointments(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/appointments", json=[])
    await ActionListAppointments().run(dispatcher, make_tracker(slots={"phone": PHONE}, channel="whatsapp",
                                                                sender_id=PHONE), domain)
    assert message_for(dispatcher, "utter_appointments_none")["phone"] == "06 12 34 56 78"


@pytest.mark.asyncio
async def test_listing_with_the_backend_down(backend: FakeBackend, dispatcher, domain) -> None:
    backend.down = True
    await ActionListAppointments().run(dispatcher, make_tracker(slots={"phone": PHONE}, channel="whatsapp",
                                                                sender_id=PHONE), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_cancel_with_one_appointment_chooses_it(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/appointments", json=[appointment()])
    tracker = form_turn("cancel_form", text="annuler mon rdv", intent="cancel_appointment", activate=True,
                        channel="whatsapp", sender_id=PHONE)
    slots = await validate(ValidateCancelForm(), tracker, dispatcher, domain)
    assert slots["appointment_ref"] == "K7M2QX" and slots["appointment_info"]["agency_id"] == "tanger"


@pytest.mark.asyncio
async def test_cancel_with_several_appointments_asks_which(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/appointments", json=[appointment(), appointment("Q2W3E4", SLOT_TUE_10)])
    tracker = form_turn("cancel_form", text="annuler mon rdv", intent="cancel_appointment", activate=True,
                        channel="whatsapp", sender_id=PHONE, before={"phone": PHONE})
    slots = await validate(ValidateCancelForm(), tracker, dispatcher, domain)
    assert slots["appointment_ref"] is None
    options = slots["booking_options"]
    assert options["kind"] == "appointment_ref" and [o["v"] for o in options["options"]] == ["K7M2QX", "Q2W3E4"]

    asked = CollectingDispatcher()
    await ActionAskCancelAppointmentRef().run(asked, make_tracker(slots={"booking_options": options},
                                                                 channel="whatsapp", sender_id=PHONE), domain)
    message = message_for(asked, "utter_choose_appointment_to_cancel")
    assert payloads_of(message) == ['/inform{"appointment_ref":"K7M2QX"}', '/inform{"appointment_ref":"Q2W3E4"}']
    assert "lundi 11 janvier 09:00" in message["appointments"]

    for text, ref in (("mardi", "Q2W3E4"), ("2", "Q2W3E4"), ("k7m2qx", "K7M2QX")):
        chosen = form_turn("cancel_form", text=text, requested="appointment_ref", channel="whatsapp",
                           sender_id=PHONE, before={"phone": PHONE, "booking_options": options})
        result = await validate(ValidateCancelForm(), chosen, CollectingDispatcher(), domain)
        assert result["appointment_ref"] == ref, text


@pytest.mark.asyncio
async def test_cancel_without_appointments_says_so_and_ends(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/appointments", json=[])
    tracker = form_turn("cancel_form", text="bghit nlghi", intent="cancel_appointment", activate=True,
                        channel="whatsapp", sender_id=PHONE)
    slots = await validate(ValidateCancelForm(), tracker, dispatcher, domain)
    assert responses_of(dispatcher) == ["utter_appointments_none"]
    assert slots["requested_slot"] is None


@pytest.mark.parametrize(("intent", "value"), [("affirm", "yes"), ("deny", "no")])
@pytest.mark.asyncio
async def test_the_cancel_confirmation(dispatcher, domain, intent: str, value: str) -> None:
    tracker = form_turn("cancel_form", text="", intent=intent, requested="cancel_confirmation",
                        before={"phone": PHONE, "appointment_ref": "K7M2QX"})
    assert await validate(ValidateCancelForm(), tracker, dispatcher, domain) == {"cancel_confirmation": value}


INFO = {"reference": "K7M2QX", "agency_id": "tanger", "agency_name": "Agence Tanger", "service": "business_plan",
        "service_name": "Aide au plan d'affaires (business plan)", "starts_at": SLOT_MON_9}


@pytest.mark.asyncio
async def test_cancelling(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments/K7M2QX/cancel", json=appointment(status="cancelled"))
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "cancel_confirmation": "yes"})
    events = await ActionCancelAppointment().run(dispatcher, tracker, domain)
    assert FakeBackend.body(backend.calls("POST")[0]) == {"phone": PHONE}
    assert message_for(dispatcher, "utter_cancel_done")["reference"] == "K7M2QX"
    assert slots_set(events)["appointment_ref"] is None and slots_set(events)["appointment_outcome"] == "done"


@pytest.mark.parametrize(("status", "response"), [(404, "utter_appointment_not_found"),
                                                  (409, "utter_cancel_not_possible")])
@pytest.mark.asyncio
async def test_cancel_refused(backend: FakeBackend, dispatcher, domain, status: int, response: str) -> None:
    backend.on("POST", "/appointments/K7M2QX/cancel", status=status, json={"detail": "no"})
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "cancel_confirmation": "yes"})
    await ActionCancelAppointment().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == [response]


@pytest.mark.asyncio
async def test_keeping_the_appointment_calls_nothing(backend: FakeBackend, dispatcher, domain) -> None:
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "cancel_confirmation": "no"})
    await ActionCancelAppointment().run(dispatcher, tracker, domain)
    assert backend.calls() == [] and responses_of(dispatcher) == ["utter_cancel_kept"]


@pytest.mark.asyncio
async def test_rescheduling_offers_other_times_of_the_same_agency(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("GET", "/agencies/tanger/slots", json=slots_answer(SLOT_MON_9, SLOT_MON_930, SLOT_TUE_10))
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO},
                           active_loop="reschedule_form")
    await ActionAskRescheduleSlot().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_ask_reschedule_slot")
    assert payloads_of(message)[:-1] == [f'/inform{{"reschedule_slot":"{s}"}}' for s in (SLOT_MON_930, SLOT_TUE_10)]
    assert backend.calls()[0].url.params["service"] == "business_plan"
    assert message["reference"] == "K7M2QX"


@pytest.mark.parametrize(("text", "day"), [
    ("je peux pas jeudi, décale-le à mardi", "2027-01-12"), ("bghit nbdel lmaw3id l tlat", "2027-01-12"),
    ("أريد تغيير موعدي إلى يوم الثلاثاء", "2027-01-12"), ("décaler mon rdv de jeudi", None),
    ("bghit nbdel lmaw3id", None)])
@pytest.mark.asyncio
async def test_the_day_named_when_moving_is_where_the_new_times_start(backend: FakeBackend, dispatcher, domain,
                                                                     text: str, day: str | None) -> None:
    backend.on("GET", "/appointments", json=[appointment()])
    tracker = form_turn("reschedule_form", text=text, intent="reschedule_appointment", activate=True,
                        channel="whatsapp", sender_id=PHONE)
    slots = await validate(ValidateRescheduleForm(), tracker, dispatcher, domain)
    assert slots["appointment_ref"] == "K7M2QX" and slots["booking_slots_day"] == day
    if day:
        backend.on("GET", "/agencies/tanger/slots", json=slots_answer(SLOT_TUE_10))
        asked = CollectingDispatcher()
        await ActionAskRescheduleSlot().run(asked, make_tracker(
            slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO, "booking_slots_day": day},
            active_loop="reschedule_form"), domain)
        assert backend.calls("GET", "/agencies/tanger/slots")[0].url.params["from"] == day
        assert payloads_of(message_for(asked, "utter_ask_reschedule_slot"))[0] == \
            f'/inform{{"reschedule_slot":"{SLOT_TUE_10}"}}'


@pytest.mark.asyncio
async def test_a_typed_new_time(backend: FakeBackend, dispatcher, domain) -> None:
    options = offered("reschedule_slot", [Option(SLOT_TUE_10, "mar. 12/01 · 10:00", when=SLOT_TUE_10)])
    tracker = form_turn("reschedule_form", text="mardi 10h", requested="reschedule_slot",
                        before={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO, **options})
    assert (await validate(ValidateRescheduleForm(), tracker, dispatcher, domain))["reschedule_slot"] == SLOT_TUE_10


@pytest.mark.asyncio
async def test_rescheduling(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments/K7M2QX/reschedule", json=appointment(starts_at=SLOT_TUE_10))
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "reschedule_slot": SLOT_TUE_10, "reschedule_confirmation": "yes"}, language="ar")
    events = await ActionRescheduleAppointment().run(dispatcher, tracker, domain)
    assert FakeBackend.body(backend.calls("POST")[0]) == {"starts_at": SLOT_TUE_10, "phone": PHONE}
    assert backend.calls("POST")[0].url.params["lang"] == "ar"
    done = message_for(dispatcher, "utter_reschedule_done")
    assert (done["day"], done["time"]) == ("الثلاثاء 12 يناير", "10:00")
    assert slots_set(events)["appointment_outcome"] == "done"


@pytest.mark.asyncio
async def test_rescheduling_to_a_slot_taken_meanwhile(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments/K7M2QX/reschedule", status=409,
               json={"detail": "the new slot is full: the appointment was not moved"})
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "reschedule_slot": SLOT_TUE_10, "reschedule_confirmation": "yes"})
    events = await ActionRescheduleAppointment().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_reschedule_slot_taken"]
    slots = slots_set(events)
    assert slots["appointment_outcome"] == "slot_taken" and slots["reschedule_slot"] is None
    assert "appointment_ref" not in slots  # the same appointment, another time


@pytest.mark.asyncio
async def test_rescheduling_refused_otherwise_changes_nothing(backend: FakeBackend, dispatcher, domain) -> None:
    backend.on("POST", "/appointments/K7M2QX/reschedule", status=409,
               json={"detail": "appointment K7M2QX has already started or passed"})
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "reschedule_slot": SLOT_TUE_10, "reschedule_confirmation": "yes"})
    events = await ActionRescheduleAppointment().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_reschedule_not_possible"]
    assert slots_set(events)["appointment_outcome"] == "failed"


@pytest.mark.asyncio
async def test_rescheduling_with_the_backend_down(backend: FakeBackend, dispatcher, domain) -> None:
    backend.down = True
    tracker = make_tracker(slots={"phone": PHONE, "appointment_ref": "K7M2QX", "appointment_info": INFO,
                                  "reschedule_slot": SLOT_TUE_10, "reschedule_confirmation": "yes"})
    await ActionRescheduleAppointment().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


# ------------------------------------------------------------------------ domain and rules


def _rules() -> list[dict[str, Any]]:
    return yaml.safe_load((ROOT / "data" / "rules" / "booking.yml").read_text(encoding="utf-8"))["rules"]


@pytest.mark.parametrize("form", ["booking_form", "appointments_form", "cancel_form", "reschedule_form"])
@pytest.mark.parametrize("intent", sorted(LEAVE_INTENTS | DIGRESSION_INTENTS))
def test_every_intent_left_to_the_rules_has_a_rule_in_every_form(form: str, intent: str) -> None:
    """The validations return no event for these intents: without a rule, Rasa would fall back."""
    assert any(
        {"active_loop": form} in (rule.get("condition") or [])
        and any(step.get("intent") == intent for step in rule["steps"])
        for rule in _rules()
    ), f"no rule for {intent} during {form}"


@pytest.mark.parametrize(("form", "intent"), [(f.form, i) for f in SWITCHING_FORMS for i in sorted(f.switches)])
def test_every_request_a_form_gives_way_to_starts_its_flow(form: str, intent: str) -> None:
    """A rule ends the form, says that nothing was booked or changed, and starts the flow the
    same way as its rule from anywhere does."""
    rules = [rule for path in sorted((ROOT / "data" / "rules").glob("*.yml"))
             for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]]
    during = [r for r in rules if {"active_loop": form} in (r.get("condition") or [])
              and r["steps"][0].get("intent") == intent]
    anywhere = [r for r in rules if not r.get("condition") and r["steps"][0].get("intent") == intent]
    assert len(during) == 1 and len(anywhere) == 1, f"{intent} during {form}"
    stop = "action_stop_booking" if form == "booking_form" else "action_stop_appointments"
    assert during[0]["steps"][1:5] == [{"action": "action_deactivate_loop"}, {"active_loop": None},
                                       {"slot_was_set": [{"requested_slot": None}]}, {"action": stop}]
    assert during[0]["steps"][5:] == anywhere[0]["steps"][1:]


@pytest.mark.parametrize("form", ["booking_form", "appointments_form", "cancel_form", "reschedule_form"])
def test_the_forms_ask_with_our_actions_or_responses(domain: dict[str, Any], form: str) -> None:
    """Rasa asks with the first of these that exists: a response must not hide an action."""
    actions = {a for a in domain["actions"] if a.startswith("action_ask_")}
    registered = {cls().name() for cls in _concrete(booking.Action) if cls.__module__ == "actions.booking"}
    for slot in domain["forms"][form]["required_slots"]:
        path = [f"action_ask_{form}_{slot}", f"utter_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{slot}"]
        found = [name for name in path if name in actions or name in domain["responses"]]
        assert found, f"{form} cannot ask for {slot}"
        ours = [name for name in path if name in registered]
        assert not ours or found[0] == ours[0], f"{found[0]} hides {ours[0]}"
        assert found[0] not in actions or found[0] in registered, f"{found[0]} is not implemented"
    assert f"validate_{form}" in registered


def _concrete(base: type) -> list[type]:
    out, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if not inspect.isabstract(sub):
                out.append(sub)
    return out


@pytest.mark.asyncio
async def test_an_unclear_answer_to_a_yes_no_question_is_asked_again(dispatcher, domain) -> None:
    tracker = form_turn("cancel_form", text="peut-être", intent="inform", requested="cancel_confirmation",
                        before={"phone": PHONE, "appointment_ref": "K7M2QX"})
    assert await validate(ValidateCancelForm(), tracker, dispatcher, domain) == {"cancel_confirmation": None}
    assert responses_of(dispatcher) == ["utter_appointment_confirm_with_buttons"]


@pytest.mark.asyncio
async def test_a_location_shared_on_whatsapp_gives_the_nearest_agencies(backend: FakeBackend, dispatcher,
                                                                         domain) -> None:
    backend.on("GET", "/agencies/nearest", json={"place": None, "origin": {}, "note": None, "lang": "fr",
                                                 "agencies": [{**AGENCY_FAHS, "place_id": "tanger"}]})
    tracker = form_turn("booking_form", text='/share_location{"lat":35.77,"lon":-5.8}', intent="share_location",
                        entities=[entity("lat", 35.77), entity("lon", -5.8)], requested="city", channel="whatsapp",
                        sender_id=PHONE, before={"service": "business_plan", "phone": PHONE})
    assert await validate(ValidateBookingForm(), tracker, dispatcher, domain) == {"city": "tanger"}
    params = backend.calls("GET", "/agencies/nearest")[0].url.params
    assert (params["lat"], params["lon"]) == ("35.77", "-5.8") and "place" not in params


@pytest.mark.asyncio
async def test_later_dates_beyond_the_horizon_start_over(backend: FakeBackend, dispatcher, domain) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("from"):
            return httpx.Response(422, json={"detail": "from must be within 30 days"})
        return httpx.Response(200, json=slots_answer(SLOT_MON_9))

    backend.on("GET", "/agencies/tanger-fahs/slots", handler=handler)
    tracker = make_tracker(slots={**FILLED, "appointment_slot": None,
                                  "booking_slots_after": "2027-02-20T23:59:59+01:00"})
    await ActionAskAppointmentSlot().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_booking_no_later_slots", "utter_ask_booking_form_appointment_slot"]
    first = payloads_of(message_for(dispatcher, "utter_ask_booking_form_appointment_slot"))[0]
    assert first == f'/inform{{"appointment_slot":"{SLOT_MON_9}"}}'


@pytest.mark.asyncio
async def test_a_replayed_booking_that_was_cancelled_since_is_booked_anew(backend: FakeBackend, dispatcher,
                                                                         domain) -> None:
    answers = iter([appointment("OLD111", status="cancelled"), appointment("NEW222")])
    backend.on("POST", "/appointments", handler=lambda request: httpx.Response(201, json=next(answers)))
    await ActionBookAppointment().run(dispatcher, confirmed(), domain)
    first, second = (r.headers["Idempotency-Key"] for r in backend.calls("POST", "/appointments"))
    assert second == f"{first}-OLD111"
    assert message_for(dispatcher, "utter_booking_done")["reference"] == "NEW222"


# ------------------------------------------------------------------- WhatsApp opt-in (design §6)


@pytest.mark.asyncio
async def test_a_whatsapp_yes_with_reminder_opts_in_to_notifications(backend: FakeBackend, dispatcher,
                                                                      domain) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment())
    tracker = make_tracker(text='/affirm{"whatsapp_opt_in":"yes"}', intent="affirm",
                           slots={**FILLED, "booking_confirmation": "yes", "whatsapp_opt_in": "yes"},
                           channel="whatsapp", sender_id=PHONE, language="ary_latn")
    await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert FakeBackend.body(backend.calls("POST", "/appointments")[0])["whatsapp_opt_in"] is True


@pytest.mark.parametrize(("channel", "answer"), [("whatsapp", "no"), ("whatsapp", None), ("web", "yes")])
@pytest.mark.asyncio
async def test_no_opt_in_without_an_explicit_yes_on_whatsapp(backend: FakeBackend, dispatcher, domain,
                                                             channel: str, answer: str | None) -> None:
    backend.on("POST", "/appointments", status=201, json=appointment())
    tracker = make_tracker(text="oui", intent="affirm",
                           slots={**FILLED, "booking_confirmation": "yes", "whatsapp_opt_in": answer},
                           channel=channel, sender_id=PHONE if channel == "whatsapp" else "web-1")
    await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert "whatsapp_opt_in" not in FakeBackend.body(backend.calls("POST", "/appointments")[0])
