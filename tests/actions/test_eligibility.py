"""Eligibility: parsing answers in four varieties, the adaptive form, and the result."""

from __future__ import annotations

import json

import httpx
import pytest

from actions.analytics import reports_sent
from actions.eligibility import (
    UNKNOWN,
    ActionEligibilityResult,
    Ambiguous,
    ValidateEligibilityForm,
    find_need,
    parse_age,
    parse_amount,
    parse_answer,
    profile_of,
)
from tests.actions.conftest import (
    FakeBackend,
    action_event,
    assert_responses_exist,
    entity,
    make_tracker,
    message_for,
    payloads_of,
    responses_of,
    slots_set,
    user_event,
)

FORM = "eligibility_form"


# ------------------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("text, age", [
    ("3ndi 24 3am", 24), ("24", 24), ("j'ai 24 ans", 24), ("عمري ٢٤ سنة", 24), ("عندي ۲۴ عام", 24),
    ("ana 35 sna", 35), ("24ans", 24), ("3ndi 3 dyal lwlad", None), ("130", None), ("bla bla", None),
])
def test_ages_in_any_script(text, age):
    assert parse_age(text) == age


def test_an_age_in_the_opening_message_needs_a_cue():
    assert parse_age("j'ai 30 ans, suis-je éligible ?", strict=True) == 30
    assert parse_age("je suis né en 1999 et 2 projets", strict=True) is None


@pytest.mark.parametrize("text", ["commerce, depuis 12 ans", "ça fait 15 ans", "il y a 20 ans", "hadi 12 3am",
                                  "mn 15 l3am", "منذ ١٢ سنة", "هادي 20 عام"])
def test_years_something_has_lasted_are_no_age(text):
    assert parse_age(text, strict=True) is None
    assert parse_age(text) is None


def test_an_age_beside_a_duration_is_still_found():
    assert parse_age("j'ai 30 ans et une TPE depuis 12 ans", strict=True) == 30
    assert parse_age("3ndi 28 3am w khddam hadi 12 3am", strict=True) == 28


@pytest.mark.parametrize("text, stage", [
    ("عندي فكرة فقط", "idea"), ("ghir fikra", "idea"), ("j'ai une TPE", "tpe"), ("fikra dyal machro3", "idea"),
    ("ana auto-entrepreneur", "auto_entrepreneur"), ("مقاول ذاتي", "auto_entrepreneur"),
    ("khddam f nwar", "informal"), ("لدي مقاولة صغيرة جدا", "tpe"), ("عندي شركة صغيرة", "tpe"),
    ("j'ai un projet", "project"), ("Employeur qui recrute", "employer"), ("je ne sais pas", UNKNOWN),
    ("bonjour", None),
    # Arabizi spelt other ways than the word lists: "ou" for "o", "sh" for "ch", doubled letters.
    ("3ndi mchrou3 sghir", "project"), ("mashrou3 dyali", "project"), ("ana mouchaghil", "employer"),
])
def test_stages_in_four_varieties(text, stage):
    assert parse_answer("stage", text, lang="fr") == stage


@pytest.mark.parametrize("text, need", [
    ("financement", "financing"), ("bghit tamwil", "financing"), ("أحتاج إلى قرض", "financing"),
    ("me former", "training"), ("M'informer", "information"), ("business plan", "business_plan"),
    ("nbghi nsajjel nachati", "formalisation"), ("kra dyal l7anout", "premises"), ("recruter", "hiring"),
    ("المحاسبة", "accounting"), ("ma3reftch", UNKNOWN),
])
def test_needs_in_four_varieties(text, need):
    assert parse_answer("need", text, lang="fr") == need


@pytest.mark.parametrize("text, need", [
    ("information", "information"), ("des informations svp", "information"), ("une formation", "training"),
    ("formation", "training"), ("bghit nsjel rasi auto-entrepreneur", "formalisation"), ("tamwil", "financing"),
    ("bghit nsjjel rasi", "formalisation"), ("3tini lma3lomat", "information"), ("ghir lflos", "financing"),
    # a long word's doubled letter typed once
    ("un busines plan", "business_plan"), ("bghit ndir busines plan", "business_plan"),
])
def test_needs_as_typed(text, need):
    assert parse_answer("need", text, lang="fr") == need


def test_a_folded_spelling_never_makes_a_word_of_another():
    """"barra" (abroad) is not "lbaramij" (the programmes) once letters are folded."""
    assert parse_answer("residence", "3tini lbaramij", lang="ary_latn") is None
    assert parse_answer("residence", "kan3ich barra", lang="ary_latn") == "mre"


@pytest.mark.parametrize("text, need", [
    ("bghit nsjel rdv", None), ("bghit nsjjel rdv f fes", None), ("أريد التسجيل لموعد مع مستشار", None),
    ("بغيت نسجل موعد", None), ("bghit ntsjjel f l maw3id", None),
    ("bghit rdv bach nsjel rasi", "formalisation"), ("بغيت ناخد موعد باش نسجل راسي", "formalisation"),
])
def test_registering_for_an_appointment_is_no_need_to_register(text, need):
    assert find_need(text) == need


@pytest.mark.parametrize("text, lang, amount", [
    ("150000", "fr", 150_000), ("150 000 DH", "fr", 150_000), ("200k", "fr", 200_000),
    ("1,5 million", "fr", 1_500_000), ("2 mlyoun dh", "ary_latn", 2_000_000), ("مليون درهم", "ary", 1_000_000),
    ("500 alf", "ary_latn", 500_000), ("٣٠٠ ألف درهم", "ary", 300_000), ("walo", "ary_latn", 0),
    ("1.500.000 dh", "fr", 1_500_000), ("20 مليون", "ar", 20_000_000),
    # "fait" before an amount is no duration ("ça fait 3 ans" is)
    ("on fait 300000 dh de chiffre daffaire", "fr", 300_000), ("kan dir 200000 dh f l3am", "ary_latn", 200_000),
    # nothing yet
    ("لا شيء بعد", "ar", 0), ("لم أبدأ بعد", "ar", 0), ("pas de CA", "fr", 0), ("mazal walo", "ary_latn", 0),
])
def test_amounts(text, lang, amount):
    assert parse_amount(text, lang=lang) == amount


@pytest.mark.parametrize("text, amount", [
    ("tijara, hadi 3 snin", None), ("depuis 3 ans", None), ("6 mois", None), ("منذ ٣ سنوات", None),
    ("200000 dh depuis 3 ans", 200_000), ("3 ans et 150 000 DH", 150_000), ("ça fait 3 ans", None),
])
def test_years_and_months_are_no_amount(text, amount):
    assert parse_amount(text, lang="fr") == amount


def test_a_darija_million_without_dirhams_is_ambiguous():
    with pytest.raises(Ambiguous):
        parse_amount("20 mlyoun", lang="ary_latn")
    with pytest.raises(Ambiguous):
        parse_amount("مليون", lang="ary")


@pytest.mark.parametrize("slot, text, value", [
    ("residence", "F lkharij (MRE)", "mre"), ("residence", "أجنبي مقيم بالمغرب", "foreign_resident"),
    ("residence", "Au Maroc", "morocco"), ("sector", "الصناعة التقليدية", "crafts"), ("sector", "Sina3a", "industry"),
    ("area", "F l3roubiya", "rural"), ("area", "En ville", "urban"), ("business_age_years", "6 mois", 0.5),
    ("business_age_years", "mazal ma bdit", 0.0), ("business_age_years", "عامين", 2.0), ("city", "  tiznit ", "tiznit"),
])
def test_other_answers(slot, text, value):
    assert parse_answer(slot, text, lang="fr") == value


def test_the_profile_leaves_out_unknown_answers():
    tracker = make_tracker(slots={"stage": "idea", "age": 24.0, "need": "financing", "turnover": UNKNOWN,
                                  "city": "tanger", "residence": None})
    assert profile_of(tracker) == {"stage": "idea", "age": 24, "need": "financing", "province": "tanger"}


# ---------------------------------------------------------------------------------------- form
def _assessment(pid, outcome, *, need=True, missing=(), reasons=(), status="to_confirm", as_of="2025-11"):
    return {"program_id": pid, "name": pid.title(), "outcome": outcome, "outcome_label": outcome.title(),
            "status": status, "status_label": "Statut à confirmer" if status != "active" else "Actif",
            "status_note": "Aucun appel ouvert trouvé." if pid == "forsa" else None, "matches_need": need,
            "reasons": [{"rule": f"r{i}", "result": "met", "text": t} for i, t in enumerate(reasons)],
            "missing": list(missing), "to_check": [], "as_of": as_of, "confidence": "high"}


NOTICES = [{"id": "free", "text": "Les services de l'ANAPEC sont gratuits."},
           {"id": "not_a_promise", "text": "Être éligible n'est pas une promesse de financement."}]


def _eligibility(next_questions, results):
    return {"lang": "fr", "results": results, "next_questions": next_questions, "notices": NOTICES}


@pytest.fixture
def engine(backend: FakeBackend) -> FakeBackend:
    """/eligibility like the backend for stage=idea, need=financing: residence matters for Forsa."""

    def answer(request: httpx.Request) -> httpx.Response:
        profile = json.loads(request.content)
        results = [
            _assessment("generation_entrepreneurs", "eligible", reasons=["Pour les porteurs d'idée."], as_of="2023-06"),
            _assessment("forsa", "maybe", missing=[] if "residence" in profile else ["residence"],
                        reasons=["18 ans et plus."]),
            _assessment("auto_entrepreneur", "maybe", need=False, missing=["sector", "turnover"], status="active"),
            _assessment("tahfiz", "not_eligible", need=False, reasons=["Pour les employeurs."]),
        ]
        nxt = [q for q in ("sector", "residence", "turnover") if q not in profile]
        return httpx.Response(200, json=_eligibility(nxt, results))

    backend.on("POST", "/eligibility", handler=answer)
    return backend


async def _validate(dispatcher, domain, **kwargs):
    """Runs the validation on a tracker like the one Rasa sends: the form's execution after the message."""
    kwargs.setdefault("active_loop", FORM)
    kwargs.setdefault("after", [action_event(FORM)])
    return slots_set(await ValidateEligibilityForm().run(dispatcher, make_tracker(**kwargs), domain))


@pytest.mark.asyncio
async def test_the_form_starts_with_the_stage(dispatcher, domain, engine):
    assert await _validate(dispatcher, domain, text="wach n9der nstafed?", intent="check_eligibility",
                           active_loop=None) == {"requested_slot": "stage"}
    assert engine.calls() == []


@pytest.mark.asyncio
async def test_the_opening_message_may_answer_already(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="j'ai une TPE et 30 ans, suis-je éligible ?",
                            intent="check_eligibility", active_loop=None,
                            after=[action_event("utter_eligibility_intro"), action_event(FORM)])
    assert slots == {"stage": "tpe", "age": 30, "requested_slot": "need"}
    slots = await _validate(dispatcher, domain, text='/check_eligibility{"need":"financing"}',
                            intent="check_eligibility", entities=[entity("need", "financing")], active_loop=None)
    assert slots == {"need": "financing", "requested_slot": "stage"}


@pytest.mark.asyncio
async def test_a_new_check_starts_afresh_but_keeps_the_place(dispatcher, domain, engine):
    before = {"stage": "tpe", "need": "hiring", "age": 40, "turnover": 1e6, "city": "tanger"}
    slots = await _validate(dispatcher, domain, text="j'ai une idée, suis-je éligible ?", intent="check_eligibility",
                            active_loop=None, slots=before)
    assert slots == {"stage": "idea", "need": None, "age": None, "turnover": None, "requested_slot": "need"}


@pytest.mark.asyncio
async def test_a_button_then_a_typed_answer(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text='/inform{"stage":"idea"}', entities=[entity("stage", "idea")],
                            requested_slot="stage")
    assert slots == {"stage": "idea", "requested_slot": "need"}
    slots = await _validate(dispatcher, domain, text="bghit tamwil", intent="inform", language="ary_latn",
                            requested_slot="need", slots={"stage": "idea"})
    # Of the programmes still in play for financing, only Forsa lacks an answer: residence.
    assert slots == {"need": "financing", "requested_slot": "residence"}
    sent = FakeBackend.body(engine.calls("POST", "/eligibility")[0])
    assert sent == {"stage": "idea", "need": "financing"}
    assert engine.calls("POST", "/eligibility")[0].url.params["lang"] == "ary_latn"


@pytest.mark.asyncio
async def test_the_form_ends_when_nothing_left_matters(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="F lmghrib", requested_slot="residence",
                            slots={"stage": "idea", "need": "financing"})
    # sector and turnover only matter for the auto-entrepreneur status, which is not about financing.
    assert slots == {"residence": "morocco", "requested_slot": None}


@pytest.mark.asyncio
async def test_an_answer_not_understood_is_asked_again(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="hmm", intent="inform", requested_slot="residence",
                            slots={"stage": "idea", "need": "financing"})
    assert slots == {"residence": None, "requested_slot": "residence"}
    assert responses_of(dispatcher) == ["utter_eligibility_not_understood"]
    assert_responses_exist(dispatcher, domain)


@pytest.mark.parametrize(("text", "language"), [("f tanja", "ary_latn"), ("à Tanger", "fr"), ("فطنجة", "ary")])
@pytest.mark.asyncio
async def test_a_moroccan_place_when_asked_where_they_live_is_morocco(dispatcher, domain, engine, text, language):
    slots = await _validate(dispatcher, domain, text=text, intent="inform", language=language,
                            entities=[entity("city", "tanger")], requested_slot="residence",
                            slots={"stage": "idea", "need": "financing"})
    assert slots["residence"] == "morocco" and slots["city"] == "tanger"
    assert responses_of(dispatcher) == []


@pytest.mark.asyncio
async def test_a_place_given_when_asked_something_else_is_kept(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="ana f casa", intent="inform", language="ary_latn",
                            entities=[entity("city", "casablanca")], requested_slot="stage")
    # The stage is asked again, without "not understood".
    assert slots == {"city": "casablanca", "requested_slot": "stage"}
    assert responses_of(dispatcher) == []


@pytest.mark.parametrize(("text", "language"), [("j'ai 24 ans", "fr"), ("3ndi 24 3am", "ary_latn"),
                                              ("عمري 24 سنة", "ary")])
@pytest.mark.asyncio
async def test_an_age_given_when_asked_something_else_is_kept(dispatcher, domain, engine, text, language):
    slots = await _validate(dispatcher, domain, text=text, intent="inform", language=language,
                            requested_slot="need", slots={"stage": "idea"})
    # The need is asked again, without "not understood"; the age will not be asked.
    assert slots == {"age": 24, "requested_slot": "need"}
    assert responses_of(dispatcher) == []


@pytest.mark.asyncio
async def test_an_age_given_when_asked_an_amount_is_kept(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="35 ans", intent="inform", requested_slot="turnover",
                            slots={"stage": "tpe", "need": "financing"})
    assert slots["age"] == 35 and "turnover" not in slots
    assert responses_of(dispatcher) == []


@pytest.mark.asyncio
async def test_an_age_beside_an_answer_is_kept_too(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="juste une idée, j'ai 19 ans", intent="inform",
                            requested_slot="stage")
    assert slots == {"stage": "idea", "age": 19, "requested_slot": "need"}
    # An age already given is not replaced by a number in a later answer.
    slots = await _validate(dispatcher, domain, text="au maroc depuis 30 ans", intent="inform",
                            requested_slot="residence", slots={"stage": "idea", "need": "financing", "age": 19})
    assert slots == {"residence": "morocco", "requested_slot": None}


@pytest.mark.asyncio
async def test_how_long_a_business_has_run_is_no_age(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="commerce, depuis 12 ans", intent="inform",
                            requested_slot="sector", slots={"stage": "tpe", "need": "financing"})
    assert slots["sector"] == "commerce" and "age" not in slots
    slots = await _validate(dispatcher, domain, text="j'ai une TPE depuis 12 ans, suis-je éligible ?",
                            intent="check_eligibility", active_loop=None)
    assert slots == {"stage": "tpe", "requested_slot": "need"}


@pytest.mark.asyncio
async def test_years_of_activity_are_no_age(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="12 ans", intent="inform", requested_slot="business_age_years",
                            slots={"stage": "tpe", "need": "financing"})
    assert slots["business_age_years"] == 12
    assert "age" not in slots


@pytest.mark.asyncio
async def test_a_question_in_the_middle_is_left_to_the_rules(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="c'est payant ?", intent="ask_cost", requested_slot="stage")
    assert slots == {"requested_slot": "stage"}
    assert responses_of(dispatcher) == []
    # Back in the form after the rule answered: the question's message is not taken for an answer.
    slots = await _validate(dispatcher, domain, text="j'ai une idée, c'est payant ?", intent="ask_cost",
                            requested_slot="stage",
                            after=[action_event("action_cost"), action_event(FORM)])
    assert slots == {"requested_slot": "stage"}


@pytest.mark.asyncio
async def test_a_darija_million_is_asked_in_dirhams(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text="20 mlyoun", language="ary_latn", requested_slot="turnover",
                            slots={"stage": "tpe", "need": "financing"})
    assert slots["turnover"] is None
    assert responses_of(dispatcher) == ["utter_eligibility_amount_in_dirhams"]


@pytest.mark.asyncio
async def test_i_dont_know_counts_as_answered(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text='/inform{"turnover":"unknown"}',
                            entities=[entity("turnover", "unknown")], requested_slot="turnover",
                            slots={"stage": "idea", "need": "financing", "residence": "morocco"})
    assert slots["turnover"] == UNKNOWN
    assert "turnover" not in FakeBackend.body(engine.calls("POST", "/eligibility")[-1])


@pytest.mark.asyncio
async def test_a_bad_button_value_is_ignored(dispatcher, domain, engine):
    slots = await _validate(dispatcher, domain, text='/inform{"stage":"astronaut"}',
                            entities=[entity("stage", "astronaut")], requested_slot="stage")
    assert slots == {"requested_slot": "stage"}


@pytest.mark.asyncio
async def test_the_form_stops_after_enough_answers(dispatcher, domain, engine):
    answered = {"stage": "tpe", "need": "financing", "age": 30, "residence": "morocco", "turnover": 1e6}
    slots = await _validate(dispatcher, domain, text="services", requested_slot="sector", slots=answered)
    assert slots == {"sector": "services", "requested_slot": None}
    assert engine.calls() == []


@pytest.mark.asyncio
async def test_backend_down_during_the_questions_ends_them(dispatcher, domain, backend):
    backend.down = True
    slots = await _validate(dispatcher, domain, text="financement", requested_slot="need", slots={"stage": "idea"})
    assert slots == {"need": "financing", "requested_slot": None}


# -------------------------------------------------------------------------------------- result
@pytest.mark.asyncio
async def test_the_result_lists_eligible_and_maybe_with_reasons_dates_and_notices(dispatcher, domain, engine):
    tracker = make_tracker(text="/inform", slots={"stage": "idea", "need": "financing", "age": 24})
    assert await ActionEligibilityResult().run(dispatcher, tracker, domain) == []
    assert responses_of(dispatcher) == ["utter_eligibility_results", "utter_eligibility_book_offer"]
    results = message_for(dispatcher, "utter_eligibility_results")
    text = results["results"]
    assert text.index("✅ Generation_Entrepreneurs") < text.index("🟡 Forsa")
    assert "(Statut à confirmer · infos au 06/2023)" in text and "⚠️ Aucun appel ouvert trouvé." in text
    assert "• 18 ans et plus." in text and "Tahfiz" not in text
    assert "gratuits" in results["notices"] and "pas une promesse" in results["notices"]
    offer = message_for(dispatcher, "utter_eligibility_book_offer")
    assert payloads_of(offer) == ['/book_appointment{"program":"generation_entrepreneurs"}',
                                  '/book_appointment{"program":"forsa"}',
                                  '/book_appointment{"program":"auto_entrepreneur"}', "/book_appointment"]
    assert all(len(b["title"]) <= 24 for b in offer["buttons"])
    assert_responses_exist(dispatcher, domain)
    # Counted for the funnel (POST /events answered 404 here: the result is shown all the same).
    await reports_sent()
    assert FakeBackend.body(engine.calls("POST", "/events")[0]) == {
        "kind": "eligibility_checked", "channel": "web", "language": "fr", "segment": "idea"}


@pytest.mark.asyncio
async def test_the_programme_asked_about_comes_first_even_if_not_eligible(dispatcher, domain, engine):
    history = [user_event("wach n9der nstafed mn tahfiz?", "check_eligibility", [entity("program", "tahfiz")])]
    tracker = make_tracker(text="/inform", history=history, slots={"stage": "idea", "need": "financing"})
    await ActionEligibilityResult().run(dispatcher, tracker, domain)
    text = message_for(dispatcher, "utter_eligibility_results")["results"]
    assert text.startswith("❌ Tahfiz") and "• Pour les employeurs." in text
    offer = message_for(dispatcher, "utter_eligibility_book_offer")
    assert '/book_appointment{"program":"tahfiz"}' not in payloads_of(offer)


@pytest.mark.asyncio
async def test_nothing_fits(dispatcher, domain, backend):
    backend.on("POST", "/eligibility", json=_eligibility([], [_assessment("tahfiz", "not_eligible")]))
    await ActionEligibilityResult().run(dispatcher, make_tracker(slots={"stage": "idea", "need": "hiring"}), domain)
    assert responses_of(dispatcher) == ["utter_eligibility_none", "utter_eligibility_book_offer"]
    assert payloads_of(message_for(dispatcher, "utter_eligibility_book_offer")) == ["/book_appointment"]
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_result_backend_down_and_refused(dispatcher, domain, backend):
    backend.down = True
    await ActionEligibilityResult().run(dispatcher, make_tracker(slots={"stage": "idea"}), domain)
    backend.down = False
    backend.on("POST", "/eligibility", json={"detail": [{"msg": "bad"}]}, status=422)
    await ActionEligibilityResult().run(dispatcher, make_tracker(slots={"stage": "idea"}), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable", "utter_eligibility_failed"]
    assert_responses_exist(dispatcher, domain)


def test_every_question_has_its_utterance_in_four_languages(domain):
    for slot in domain["forms"][FORM]["required_slots"]:
        name = f"utter_ask_{FORM}_{slot}"
        assert name in domain["responses"], name
        for variant in domain["responses"][name]:
            assert all(len(b["title"]) <= 24 for b in variant.get("buttons") or []), name


@pytest.mark.asyncio
async def test_what_serves_the_need_comes_first_and_open_points_replace_the_note(dispatcher, domain, backend):
    forsa = _assessment("forsa", "maybe")
    forsa["reasons"] = [{"rule": "forsa_call", "result": "uncertain", "text": "Aucun appel trouvé après 2023."}]
    backend.on("POST", "/eligibility", json=_eligibility([], [
        _assessment("auto_entrepreneur", "eligible", need=False, status="active"), forsa]))
    await ActionEligibilityResult().run(dispatcher, make_tracker(slots={"stage": "idea", "need": "financing"}), domain)
    text = message_for(dispatcher, "utter_eligibility_results")["results"]
    assert text.index("🟡 Forsa") < text.index("✅ Auto_Entrepreneur")
    assert "• Aucun appel trouvé après 2023." in text and "⚠️" not in text
    titles = [b["title"] for b in message_for(dispatcher, "utter_eligibility_book_offer")["buttons"]]
    assert titles[0] == "RDV : Forsa" and all(len(t) <= 24 for t in titles)
