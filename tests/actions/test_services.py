"""Service discovery: the catalogue from the backend, with a button to book each service."""

from __future__ import annotations

import json

import pytest

from actions.services import ActionListServices
from tests.actions.conftest import (
    FakeBackend,
    assert_responses_exist,
    make_tracker,
    message_for,
    payloads_of,
    responses_of,
)

SERVICES_ARY_LATN = [
    {"id": "information_orientation", "name": "Lma3lomat w tawjih", "description": "Moustachar kaychre7 lik l3ard.",
     "duration_minutes": 30, "lang": "ary_latn", "free_of_charge": True},
    {"id": "business_plan", "name": "Lmousa3ada f business plan (BP)", "description": "Twajjed dirasa.",
     "duration_minutes": 60, "lang": "ary_latn", "free_of_charge": True},
]


@pytest.mark.asyncio
async def test_lists_the_services_in_the_users_language_with_a_booking_button_each(
    dispatcher, domain, backend: FakeBackend
):
    backend.on("GET", "/services", json=SERVICES_ARY_LATN)
    await ActionListServices().run(dispatcher, make_tracker(text="chno katdiro?", intent="ask_services",
                                                            language="ary_latn"), domain)
    assert backend.calls("GET", "/services")[0].url.params["lang"] == "ary_latn"
    assert responses_of(dispatcher) == ["utter_services_intro", "utter_services_book_prompt"]
    assert message_for(dispatcher, "utter_services_intro")["services"] == (
        "1. Lma3lomat w tawjih — Moustachar kaychre7 lik l3ard.\n2. Lmousa3ada f business plan (BP) — Twajjed dirasa.")
    prompt = message_for(dispatcher, "utter_services_book_prompt")
    payloads = payloads_of(prompt)
    assert [json.loads(p.removeprefix("/book_appointment")) for p in payloads] == [
        {"service": "information_orientation"}, {"service": "business_plan"}]
    assert all(len(b["title"]) <= 24 for b in prompt["buttons"])
    assert prompt["buttons"][1]["title"] == "Lmousa3ada f business…"  # "(BP)" dropped, cut on a word
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_backend_down(dispatcher, domain, backend):
    backend.down = True
    events = await ActionListServices().run(dispatcher, make_tracker(intent="ask_services"), domain)
    assert events == [] and responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_backend_refusal_is_not_shown_as_a_list(dispatcher, domain, backend):
    backend.on("GET", "/services", json={"detail": "lang must be one of fr, ar, ary, ary_latn"}, status=422)
    await ActionListServices().run(dispatcher, make_tracker(intent="ask_services"), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]
