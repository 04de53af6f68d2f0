"""Service discovery: the catalogue from the backend, with a button to book each service; "is it free?"."""

from __future__ import annotations

import json

import pytest

from actions.programs import asks_amount_given
from actions.services import ActionCost, ActionListServices
from tests.actions.conftest import (
    FakeBackend,
    action_event,
    assert_responses_exist,
    bot_event,
    make_tracker,
    message_for,
    payloads_of,
    responses_of,
    user_event,
)
from tests.actions.test_programs import CATALOGUE, FORSA

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


@pytest.mark.parametrize(("text", "given"), [
    # how much a programme lends or gives, which the classifier calls ask_cost
    ("combien ils prêtent ?", True), ("ils donnent combien ?", True), ("ch7al kay3tiw", True),
    ("ch7al kaysellfo ?", True), ("chhal kat3ti forsa", True), ("ch7al l9ard", True), ("شحال كيسلفو؟", True),
    ("وكم يعطون؟", True), ("ما هو أقصى مبلغ للقرض؟", True),
    # the price, or money asked of the person
    ("c'est gratuit ?", False), ("combien ça coûte", False), ("wach bflous", False), ("ch7al khassni n3ti", False),
    ("هل الخدمة مجانية؟", False), ("combien je paie à la CNSS en AE ?", False),
    ("combien de commission sur le prêt ?", False), ("هل تأخذ الوكالة نسبة من القرض؟", False),
    ("wach lma3lomat li kat3tiw b flous", False),
])
def test_a_money_question_about_what_is_given_or_what_is_paid(text: str, given: bool) -> None:
    assert asks_amount_given(text) is given


@pytest.mark.asyncio
async def test_is_it_free_is_always_yes(dispatcher, domain, backend: FakeBackend):
    await ActionCost().run(dispatcher, make_tracker(text="c'est payant ?", intent="ask_cost"), domain)
    assert responses_of(dispatcher) == ["utter_free_of_charge"] and backend.calls() == []


@pytest.mark.asyncio
async def test_how_much_they_lend_gets_the_financing_answer(dispatcher, domain, backend: FakeBackend):
    await ActionCost().run(dispatcher, make_tracker(text="combien ils prêtent ?", intent="ask_cost"), domain)
    assert responses_of(dispatcher) == ["utter_financing"]
    # Right after a programme's details: that programme's benefits.
    backend.on("GET", "/programs", json=CATALOGUE)
    backend.on("GET", "/programs/forsa", json=FORSA)
    shown = [user_event("chno hiya forsa", "ask_program_info"), action_event("action_program_info"),
             bot_event("Programme Forsa", response="utter_program_info"), action_event("action_listen")]
    after_forsa = make_tracker(text="ch7al kay3tiw ?", intent="ask_cost", history=shown, slots={"program": "forsa"},
                               language="ary_latn")
    await ActionCost().run(dispatcher, after_forsa, domain)
    assert responses_of(dispatcher)[-1] == "utter_program_info"
    assert "100 000 DH" in message_for(dispatcher, "utter_program_info")["details"]
    assert_responses_exist(dispatcher, domain)
