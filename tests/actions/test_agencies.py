"""Nearest agency and opening hours: from a city (any spelling), an answer, or a shared location."""

from __future__ import annotations

import httpx
import pytest

from actions.agencies import ActionFindAgency, ActionOpeningHours, shared_location
from actions.analytics import reports_sent
from tests.actions.conftest import (
    FakeBackend,
    assert_responses_exist,
    bot_event,
    entity,
    make_tracker,
    message_for,
    payloads_of,
    responses_of,
    slots_set,
    user_event,
)

HOURS = {"verified": False,
         "text": "Du lundi au vendredi : 08:30–12:30 et 13:30–16:30 (horaires à confirmer auprès de l'ANAPEC)",
         "weekly": {"mon": [["08:30", "12:30"], ["13:30", "16:30"]]}}


def _agency(aid="tanger", **extra):
    return {"id": extra.pop("id", aid), "name": "Agence Tanger", "name_fr": "Agence Tanger",
            "name_ar": "وكالة أنابيك طنجة",
            "kind": "agence", "active": True, "region": {"id": "r", "name": "Tanger-Tétouan-Al Hoceïma"},
            "province": {"id": "p", "name": "Tanger-Assilah"}, "city": "Tanger", "place_id": "tanger",
            "address": "Angle Avenue Omar Ben Khattab, Tanger", "address_verified": True,
            "phone": "05 39 94 61 58", "phone_verified": True, "hours": HOURS, "advisers": 2, "slot_minutes": 30,
            "lat": 35.76727, "lon": -5.79975, "location_precision": "city",
            "osm_url": "https://www.openstreetmap.org/?mlat=35.76727&mlon=-5.79975#map=15/35.76727/-5.79975",
            "source": None, "as_of": None, "lang": "fr", **extra}


def _nearest(place_id="tanger", **agency):
    place = {"id": place_id, "kind": "city", "name": "Tanger", "name_fr": "Tanger", "name_ar": "طنجة",
             "region": None, "province": None, "city": None, "lat": 35.7, "lon": -5.8, "lang": "fr",
             "matched": "tanja", "fuzzy": False, "common_word": False} if place_id else None
    return {"place": place, "origin": {"lat": 35.7, "lon": -5.8, "source": "place" if place_id else "coordinates"},
            "agencies": [{**_agency(**agency), "distance_km": agency.get("distance_km", 0.0)}], "note": None,
            "lang": "fr"}


@pytest.mark.asyncio
async def test_nearest_agency_from_a_city_entity(dispatcher, domain, backend: FakeBackend):
    backend.on("GET", "/agencies/nearest", json=_nearest())
    tracker = make_tracker(text="fin kayna anapec f tanja", intent="find_agency", language="ary_latn",
                           entities=[entity("city", "tanger")], slots={"city": "tanger"})
    events = await ActionFindAgency().run(dispatcher, tracker, domain)
    params = backend.calls("GET", "/agencies/nearest")[0].url.params
    assert (params["place"], params["lang"]) == ("tanger", "ary_latn")
    message = message_for(dispatcher, "utter_agency_found")
    assert message["name"] == "Agence Tanger" and message["phone"] == "05 39 94 61 58"
    assert "horaires à confirmer" in message["hours"]
    assert message["map"].startswith("https://www.openstreetmap.org/")
    assert payloads_of(message) == ['/book_appointment{"agency_id":"tanger"}', "/ask_human"]
    assert slots_set(events) == {"nearest_agency_id": "tanger"}
    await reports_sent()
    assert FakeBackend.body(backend.calls("POST", "/events")[0])["agency_id"] == "tanger"
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_an_unverified_address_is_shown_as_the_backend_words_it(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json=_nearest(
        place_id="casablanca", address="Adresse à confirmer auprès de l'ANAPEC", address_verified=False))
    tracker = make_tracker(text="agence casa", intent="find_agency", entities=[entity("city", "casa")])
    events = await ActionFindAgency().run(dispatcher, tracker, domain)
    assert message_for(dispatcher, "utter_agency_found")["address"] == "Adresse à confirmer auprès de l'ANAPEC"
    assert slots_set(events)["city"] == "casablanca"  # the canonical place, for booking later


@pytest.mark.asyncio
async def test_no_place_asks_for_the_city(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json={"detail": "Lieu inconnu"}, status=404)
    events = await ActionFindAgency().run(dispatcher, make_tracker(text="agence la plus proche", intent="find_agency"),
                                          domain)
    # The message was tried as a place (the NLU may miss one), silently.
    assert backend.calls("GET", "/agencies/nearest")[0].url.params["place"] == "agence la plus proche"
    assert events == [] and responses_of(dispatcher) == ["utter_ask_agency_city"]
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_a_place_the_nlu_missed_is_found_in_the_message(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json=_nearest())
    tracker = make_tracker(text="anapec f ttanja", intent="find_agency")
    events = await ActionFindAgency().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_agency_found"]
    assert slots_set(events) == {"nearest_agency_id": "tanger", "city": "tanger"}


@pytest.mark.asyncio
async def test_an_uncertain_match_in_the_message_is_not_trusted(dispatcher, domain, backend):
    uncertain = _nearest()
    uncertain["place"]["common_word"] = True  # "safi" is a city and a word
    backend.on("GET", "/agencies/nearest", json=uncertain)
    await ActionFindAgency().run(dispatcher, make_tracker(text="safi fin l'agence", intent="find_agency"), domain)
    assert responses_of(dispatcher) == ["utter_ask_agency_city"]


@pytest.mark.asyncio
async def test_the_city_known_from_before_is_used(dispatcher, domain, backend):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["place"] == "rabat":
            return httpx.Response(200, json=_nearest(place_id="rabat", id="rabat"))
        return httpx.Response(404, json={"detail": "Lieu inconnu"})

    backend.on("GET", "/agencies/nearest", handler=answer)
    events = await ActionFindAgency().run(dispatcher, make_tracker(text="agence ?", intent="find_agency",
                                                                   slots={"city": "rabat"}), domain)
    assert responses_of(dispatcher) == ["utter_agency_found"]
    assert slots_set(events) == {"nearest_agency_id": "rabat"}


@pytest.mark.asyncio
async def test_the_answer_to_which_city_is_sent_as_typed(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json=_nearest())
    history = [user_event("fin l'agence", "find_agency"), {"event": "action", "name": "action_find_agency"},
               bot_event("Dans quelle ville ?", response="utter_ask_agency_city"),
               {"event": "action", "name": "action_listen"}]
    tracker = make_tracker(text="fttanja", intent="inform", history=history)
    await ActionFindAgency().run(dispatcher, tracker, domain)
    assert backend.calls("GET", "/agencies/nearest")[0].url.params["place"] == "fttanja"


@pytest.mark.asyncio
async def test_a_shared_location_payload(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json=_nearest(place_id=None, distance_km=12.4))
    tracker = make_tracker(text='/share_location{"lat":35.7,"lon":-5.9}', intent="share_location", channel="whatsapp",
                           entities=[entity("lat", 35.7), entity("lon", -5.9)], slots={"city": "rabat"})
    events = await ActionFindAgency().run(dispatcher, tracker, domain)
    params = backend.calls("GET", "/agencies/nearest")[0].url.params
    assert (params["lat"], params["lon"]) == ("35.7", "-5.9") and "place" not in params
    assert message_for(dispatcher, "utter_agency_found")["name"] == "Agence Tanger (~12 km)"
    assert slots_set(events) == {"nearest_agency_id": "tanger"}


@pytest.mark.asyncio
async def test_a_location_in_the_message_metadata(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json=_nearest(place_id=None))
    tracker = make_tracker(text="voici ma position", intent="find_agency", channel="whatsapp",
                           metadata={"location": {"lat": "33.59", "lon": "-7.61"}})
    await ActionFindAgency().run(dispatcher, tracker, domain)
    assert backend.calls("GET", "/agencies/nearest")[0].url.params["lat"] == "33.59"


def test_bad_coordinates_are_ignored():
    assert shared_location(make_tracker(entities=[entity("lat", "abc"), entity("lon", 1)])) is None
    assert shared_location(make_tracker(entities=[entity("lat", 95), entity("lon", 1)])) is None
    assert shared_location(make_tracker(metadata={"lat": 33.5, "lon": -7.6})) == (33.5, -7.6)


@pytest.mark.asyncio
async def test_an_unknown_place_is_asked_again_and_forgotten(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json={"detail": "Lieu inconnu : « blabla »."}, status=404)
    tracker = make_tracker(text="f blabla", intent="find_agency", entities=[entity("city", "blabla")],
                           slots={"city": "blabla"})
    events = await ActionFindAgency().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_agency_place_unknown"]
    assert dispatcher.messages[0]["place"] == "blabla"
    assert slots_set(events) == {"city": None}
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_no_agency_found(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json={**_nearest(), "agencies": []})
    await ActionFindAgency().run(dispatcher, make_tracker(intent="find_agency", entities=[entity("city", "tanger")]),
                                 domain)
    assert responses_of(dispatcher) == ["utter_agency_none_found"]


@pytest.mark.asyncio
async def test_nearest_agency_backend_down(dispatcher, domain, backend):
    backend.down = True
    events = await ActionFindAgency().run(dispatcher, make_tracker(intent="find_agency",
                                                                   entities=[entity("city", "tanger")]), domain)
    assert events == [] and responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_opening_hours_of_the_agency_found_before(dispatcher, domain, backend):
    backend.on("GET", "/agencies/tanger", json=_agency())
    tracker = make_tracker(text="m3a ch7al kat7el?", intent="ask_opening_hours", language="ary_latn",
                           slots={"nearest_agency_id": "tanger"})
    events = await ActionOpeningHours().run(dispatcher, tracker, domain)
    assert backend.calls("GET", "/agencies/tanger")[0].url.params["lang"] == "ary_latn"
    message = message_for(dispatcher, "utter_agency_hours")
    assert message["hours"] == HOURS["text"]  # unverified hours say "to be confirmed"
    assert slots_set(events) == {}
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_opening_hours_of_a_named_city(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json=_nearest())
    tracker = make_tracker(text="horaires de l'agence de tanger", intent="ask_opening_hours",
                           entities=[entity("city", "tanger")], slots={"nearest_agency_id": "rabat"})
    events = await ActionOpeningHours().run(dispatcher, tracker, domain)
    assert backend.calls("GET", "/agencies/nearest") and not backend.calls("GET", "/agencies/rabat")
    assert slots_set(events) == {"nearest_agency_id": "tanger", "city": "tanger"}


@pytest.mark.asyncio
async def test_opening_hours_without_any_place_asks_the_city(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json={"detail": "Lieu inconnu"}, status=404)
    await ActionOpeningHours().run(dispatcher, make_tracker(text="horaires ?", intent="ask_opening_hours"), domain)
    assert responses_of(dispatcher) == ["utter_ask_agency_city"]


@pytest.mark.asyncio
async def test_another_question_after_which_city_is_not_taken_for_a_place(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json={"detail": "Lieu inconnu"}, status=404)
    history = [user_event("fin l'agence", "find_agency"), bot_event("?", response="utter_ask_agency_city")]
    tracker = make_tracker(text="ما هي أوقات العمل؟", intent="ask_opening_hours", language="ar", history=history)
    await ActionOpeningHours().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_ask_agency_city"]


@pytest.mark.asyncio
async def test_an_unknown_answer_to_which_city_is_said_so(dispatcher, domain, backend):
    backend.on("GET", "/agencies/nearest", json={"detail": "Lieu inconnu"}, status=404)
    history = [user_event("fin l'agence", "find_agency"), bot_event("?", response="utter_ask_agency_city")]
    await ActionFindAgency().run(dispatcher, make_tracker(text="blabla", intent="inform", history=history), domain)
    assert responses_of(dispatcher) == ["utter_agency_place_unknown"]
    assert dispatcher.messages[0]["place"] == "blabla"


@pytest.mark.asyncio
async def test_opening_hours_backend_down(dispatcher, domain, backend):
    backend.down = True
    await ActionOpeningHours().run(dispatcher, make_tracker(intent="ask_opening_hours",
                                                            slots={"nearest_agency_id": "tanger"}), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]
