"""Programme information, documents and financing, from the backend's catalogue."""

from __future__ import annotations

import pytest

from actions.analytics import reports_sent
from actions.backend import ProgramSummary
from actions.programs import ActionDocuments, ActionFinancing, ActionProgramInfo, dated, resolve_program, short_name
from tests.actions.conftest import (
    FakeBackend,
    action_event,
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


def _summary(pid, name, status="to_confirm", label="Statut à confirmer", note=None, as_of="2025-11",
             needs=("financing",)):
    return {"id": pid, "name": name, "summary": f"Résumé de {name}.", "status": status, "status_label": label,
            "status_note": note, "as_of": as_of, "confidence": "high", "lang": "fr", "needs": list(needs)}


CATALOGUE = [
    _summary("forsa", "Programme Forsa", note="Aucun nouvel appel après l'édition 2023 : vérifiez sur forsa.ma."),
    _summary("intelaka", "Intelaka (Programme intégré d'appui et de financement des entreprises)", as_of="2024-03"),
    _summary("auto_entrepreneur", "Statut d'auto-entrepreneur", status="active", label="Actif", as_of="2025-08"),
    _summary("moukawalati", "Moukawalati", status="closed", label="Fermé", note="Fermé.", as_of=None),
]
FORSA = {
    **CATALOGUE[0],
    "benefits": [
        {"text": "Prêt d'honneur à 0 % jusqu'à 100 000 DH, dont jusqu'à 10 000 DH de subvention.", "as_of": "2023",
         "confidence": None},
        {"text": "Suspension facultative des remboursements pendant 1 an.", "as_of": "2025-11", "confidence": None},
        {"text": "Incubation.", "as_of": None, "confidence": None},
    ],
    "obligations": [],
    "documents": ["Aucun document pour la candidature en ligne.", "Ensuite : la CIN."],
    "where": "forsa.ma, centre d'appel 5544.", "conditions": ["18 ans et plus."], "to_check": [],
    "needs": ["financing", "training"], "sources": [],
}
MOUKAWALATI = {**CATALOGUE[3], "benefits": [], "obligations": [], "documents": [],
               "where": "Programme fermé.", "conditions": [], "to_check": [], "needs": [], "sources": []}


@pytest.fixture
def catalogue(backend: FakeBackend) -> FakeBackend:
    backend.on("GET", "/programs", json=CATALOGUE)
    backend.on("GET", "/programs/forsa", json=FORSA)
    backend.on("GET", "/programs/moukawalati", json=MOUKAWALATI)
    return backend


def test_dates_and_short_names():
    labels = {"as_of": "infos au {date}", "as_of_unknown": "date à confirmer"}
    assert dated("2023-06", labels) == "infos au 06/2023"
    assert dated("2018-2022", labels) == "infos au 2018-2022"
    assert dated(None, labels) == "date à confirmer"
    assert short_name("Intelaka (Programme intégré d'appui)") == "Intelaka"
    assert short_name("INDH – Programme 3 « Amélioration »") == "INDH"
    assert short_name("المبادرة الوطنية للتنمية البشرية – البرنامج 3") == "المبادرة الوطنية…"
    assert short_name("Statut dyal l'auto-entrepreneur dyalek") == "Statut dyal…"
    assert short_name("x" * 30) == "x" * 23 + "…"


def test_entity_values_resolve_to_catalogue_ids():
    programs = [ProgramSummary(**{k: v for k, v in p.items() if k not in ("confidence", "lang")}) for p in CATALOGUE]
    assert resolve_program("forsa", programs) == "forsa"
    assert resolve_program("auto-entrepreneur", programs) == "auto_entrepreneur"
    assert resolve_program("Intelaka", programs) == "intelaka"
    assert resolve_program("programme forsa", programs) == "forsa"
    assert resolve_program("football", programs) is None
    assert resolve_program(None, programs) is None


@pytest.mark.asyncio
async def test_a_programme_with_dated_benefits_status_and_next_steps(dispatcher, domain, catalogue):
    tracker = make_tracker(text="c'est quoi forsa ?", intent="ask_program_info", entities=[entity("program", "forsa")])
    events = await ActionProgramInfo().run(dispatcher, tracker, domain)
    assert catalogue.calls("GET", "/programs/forsa")[0].url.params["lang"] == "fr"
    message = message_for(dispatcher, "utter_program_info")
    details = message["details"]
    assert details.startswith("Programme Forsa — Statut à confirmer\nRésumé de Programme Forsa.\n")
    assert "⚠️ Aucun nouvel appel" in details
    assert "• Prêt d'honneur à 0 % jusqu'à 100 000 DH, dont jusqu'à 10 000 DH de subvention. (infos au 2023)" in details
    assert "(infos au 11/2025)" in details and "• Incubation. (date à confirmer)" in details
    assert "forsa.ma, centre d'appel 5544." in details
    assert payloads_of(message) == ['/check_eligibility{"program":"forsa"}', '/book_appointment{"program":"forsa"}',
                                    '/ask_documents{"program":"forsa"}']
    assert slots_set(events) == {"program": "forsa"}
    await reports_sent()
    assert FakeBackend.body(catalogue.calls("POST", "/events")[0])["program"] == "forsa"
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_a_closed_programme_is_said_closed(dispatcher, domain, catalogue):
    tracker = make_tracker(text="moukawalati?", intent="ask_program_info", entities=[entity("program", "moukawalati")])
    await ActionProgramInfo().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_program_info")
    assert "⛔ Ce programme est fermé" in message["details"]
    assert "/check_eligibility" not in " ".join(payloads_of(message))


@pytest.mark.asyncio
async def test_no_programme_named_lists_them_all_as_buttons(dispatcher, domain, catalogue):
    await ActionProgramInfo().run(dispatcher, make_tracker(text="les programmes", intent="ask_program_info",
                                                           language="ar"), domain)
    message = message_for(dispatcher, "utter_programs_list")
    assert catalogue.calls("GET", "/programs")[0].url.params["lang"] == "ar"
    assert "• ⛔ Moukawalati — Fermé" in message["programs"]
    assert payloads_of(message) == [f'/ask_program_info{{"program":"{p["id"]}"}}' for p in CATALOGUE]
    assert [b["title"] for b in message["buttons"]][1] == "Intelaka"
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_an_unknown_name_lists_them(dispatcher, domain, catalogue):
    tracker = make_tracker(text="programme xyz", intent="ask_program_info", entities=[entity("program", "xyz")])
    await ActionProgramInfo().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_programs_list"]


@pytest.mark.asyncio
async def test_programme_info_backend_down(dispatcher, domain, backend):
    backend.down = True
    tracker = make_tracker(intent="ask_program_info", entities=[entity("program", "forsa")])
    assert await ActionProgramInfo().run(dispatcher, tracker, domain) == []
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@pytest.mark.asyncio
async def test_documents_of_the_programme_named(dispatcher, domain, catalogue):
    tracker = make_tracker(text="chno lwra9 dyal forsa", intent="ask_documents", language="ary_latn",
                           entities=[entity("program", "forsa")])
    await ActionDocuments().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_program_documents")
    assert message["documents"] == "• Aucun document pour la candidature en ligne.\n• Ensuite : la CIN."
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_documents_of_the_programme_just_discussed(dispatcher, domain, catalogue):
    await ActionDocuments().run(dispatcher, make_tracker(intent="ask_documents", slots={"program": "forsa"}), domain)
    assert responses_of(dispatcher) == ["utter_program_documents"]


@pytest.mark.asyncio
async def test_generic_documents_when_no_programme_or_no_list(dispatcher, domain, catalogue):
    await ActionDocuments().run(dispatcher, make_tracker(text="quels documents ?", intent="ask_documents"), domain)
    closed = make_tracker(intent="ask_documents", slots={"program": "moukawalati"})
    await ActionDocuments().run(dispatcher, closed, domain)
    assert responses_of(dispatcher) == ["utter_documents_generic", "utter_documents_generic"]
    assert catalogue.calls("GET", "/programs/moukawalati")
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_documents_backend_down(dispatcher, domain, backend):
    backend.down = True
    await ActionDocuments().run(dispatcher, make_tracker(intent="ask_documents", slots={"program": "forsa"}), domain)
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


SHOWN_FORSA = [user_event("c'est quoi forsa", "ask_program_info"), action_event("action_program_info"),
               bot_event("Programme Forsa", response="utter_program_info"), action_event("action_listen")]


@pytest.mark.parametrize(("text", "entities", "history"), [
    ("ch7al kat3ti forsa", [entity("program", "forsa")], []),
    ("combien ils prêtent ?", [], SHOWN_FORSA),  # right after Forsa's details
], ids=["named", "just-shown"])
@pytest.mark.asyncio
async def test_financing_of_a_programme_shows_its_dated_benefits(dispatcher, domain, catalogue, text, entities,
                                                                 history):
    tracker = make_tracker(text=text, intent="ask_financing", entities=entities, history=history,
                           slots={"program": "forsa"} if history else {}, language="ary_latn")
    events = await ActionFinancing().run(dispatcher, tracker, domain)
    message = message_for(dispatcher, "utter_program_info")
    assert "• Prêt d'honneur à 0 % jusqu'à 100 000 DH, dont jusqu'à 10 000 DH de subvention." in message["details"]
    assert payloads_of(message)[0] == '/check_eligibility{"program":"forsa"}'
    assert slots_set(events) == {"program": "forsa"}
    assert_responses_exist(dispatcher, domain)
    # Right after its details, only what it gives (the summary was just shown); named anew, all.
    assert (FORSA["summary"] in message["details"]) == (not history)


@pytest.mark.parametrize("history", [
    [],
    # Forsa was shown, but the bot answered something else since.
    [*SHOWN_FORSA, user_event("fin kayna l'agence", "find_agency"), action_event("action_find_agency"),
     action_event("action_listen")],
], ids=["none", "shown-earlier"])
@pytest.mark.asyncio
async def test_a_general_financing_question_leads_to_the_eligibility_check(dispatcher, domain, catalogue, history):
    tracker = make_tracker(text="bghit tamwil", intent="ask_financing", history=history, slots={"program": "forsa"})
    assert await ActionFinancing().run(dispatcher, tracker, domain) == []
    assert responses_of(dispatcher) == ["utter_financing"]
    assert catalogue.calls() == []


HIRING_CATALOGUE = [
    *CATALOGUE,
    _summary("idmaj", "Idmaj – Contrat d'insertion", needs=("hiring",)),
    _summary("tahfiz", "Tahfiz", needs=("hiring",)),
    _summary("old_hiring", "Ancienne aide", status="closed", label="Fermé", needs=("hiring",)),
]


@pytest.mark.parametrize(("text", "language"), [
    ("عندي شركة صغيرة وبغيت نشغل جوج ديال الناس، واش كاين شي دعم؟", "ary"),
    ("j'ai une TPE et je veux recruter, il y a une aide ?", "fr"),
    ("bghit nchghel nass, kayn chi da3m?", "ary_latn"),
])
@pytest.mark.asyncio
async def test_help_to_hire_lists_the_programmes_that_serve_hiring(dispatcher, domain, backend, text, language):
    """Not the financing answer (Forsa, Intelaka...): the catalogue's hiring programmes still open."""
    backend.on("GET", "/programs", json=HIRING_CATALOGUE)
    tracker = make_tracker(text=text, intent="ask_financing", language=language)
    assert await ActionFinancing().run(dispatcher, tracker, domain) == []
    message = message_for(dispatcher, "utter_hiring_programs")
    assert message["programs"].splitlines() == ["• Idmaj – Contrat d'insertion — Statut à confirmer",
                                                "• Tahfiz — Statut à confirmer"]
    assert payloads_of(message) == ['/ask_program_info{"program":"idmaj"}', '/ask_program_info{"program":"tahfiz"}',
                                    '/check_eligibility{"need":"hiring"}']
    assert backend.calls("GET", "/programs")[0].url.params["lang"] == language
    assert_responses_exist(dispatcher, domain)


@pytest.mark.asyncio
async def test_help_to_hire_with_the_backend_down_gets_the_general_answer(dispatcher, domain, backend):
    backend.down = True
    tracker = make_tracker(text="je veux recruter, il y a une aide ?", intent="ask_financing")
    await ActionFinancing().run(dispatcher, tracker, domain)
    assert responses_of(dispatcher) == ["utter_financing"]


@pytest.mark.asyncio
async def test_financing_of_an_unknown_programme_or_backend_down(dispatcher, domain, backend, catalogue):
    unknown = make_tracker(text="tamwil dyal xyz", intent="ask_financing", entities=[entity("program", "xyz")])
    await ActionFinancing().run(dispatcher, unknown, domain)
    backend.down = True
    named = make_tracker(text="tamwil dyal forsa", intent="ask_financing", entities=[entity("program", "forsa")])
    await ActionFinancing().run(dispatcher, named, domain)
    assert responses_of(dispatcher) == ["utter_financing", "utter_backend_unavailable"]
