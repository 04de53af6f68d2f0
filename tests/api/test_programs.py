"""The programme catalogue: reference data faithful to ../shared/domain (facts.md §2, programmes.yaml),
complete in the four languages, served localised by GET /programs and GET /programs/{id}."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from app.core.config import get_settings
from app.models import Program
from app.schemas.eligibility import Localised
from app.schemas.programs import ProgrammeRecord
from app.services.programs import load_catalogue, seed_programs
from fastapi.testclient import TestClient
from ge_text import detect_script
from sqlalchemy import func, select
from sqlalchemy.orm import Session

LANGS = ("fr", "ar", "ary", "ary_latn")
PATH = get_settings().reference_dir / "programmes.yaml"
IDS = [
    "generation_entrepreneurs",
    "ana_moukawil",
    "forsa",
    "intelaka",
    "auto_entrepreneur",
    "indh",
    "awrach",
    "tahfiz",
    "idmaj",
    "taehil",
    "tpme",
    "moukawalati",
]
TO_CONFIRM = {
    "fr": "À confirmer dans votre agence ANAPEC.",
    "ar": "يتعين التأكد من ذلك في وكالة أنابيك.",
    "ary": "خاصك تأكد منها فالوكالة ديال لانابيك.",
    "ary_latn": "Khassek tt2akked menha f l'agence dyal l'ANAPEC.",
}


def texts_of(record: ProgrammeRecord) -> Iterator[tuple[str, Localised]]:
    """Every user-facing text of a programme, named by where it stands."""
    yield "names", record.names
    yield "summary", record.summary
    yield "where", record.where
    if record.status_note:
        yield "status_note", record.status_note
    for i, benefit in enumerate(record.benefits):
        yield f"benefits[{i}]", benefit.text
    for i, obligation in enumerate(record.obligations):
        yield f"obligations[{i}]", obligation.text
    for i, document in enumerate(record.documents):
        yield f"documents[{i}]", document
    for i, item in enumerate(record.to_check):
        yield f"to_check[{i}]", item
    for rule in record.rules:
        yield f"rule {rule.id}", rule.text


def all_texts() -> list[tuple[str, Localised]]:
    return [(f"{p.id} {where}", text) for p in load_catalogue(PATH).programmes for where, text in texts_of(p)]


def detail(client: TestClient, program_id: str, lang: str = "fr") -> dict[str, Any]:
    response = client.get(f"/api/v1/programs/{program_id}", params={"lang": lang})
    assert response.status_code == 200, response.text
    return response.json()


def everything_said(program: dict[str, Any]) -> str:
    parts = [program["summary"], program["where"], *program["conditions"], *program["to_check"], *program["documents"]]
    parts += [b["text"] for b in program["benefits"] + program["obligations"]]
    return "\n".join(parts)


# --- the list and the detail -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_programme_is_listed_with_its_status_in_the_asked_language(client: TestClient, lang: str) -> None:
    response = client.get("/api/v1/programs", params={"lang": lang})
    assert response.status_code == 200
    programs = response.json()
    assert [p["id"] for p in programs] == IDS
    assert all(p["lang"] == lang and p["name"] and p["summary"] and p["status_label"] for p in programs)
    assert len({p["name"] for p in programs}) == len(IDS)


def test_the_list_says_which_needs_each_programme_serves(client: TestClient) -> None:
    """The bot answers "I want to hire" with the programmes that serve hiring, from the list alone."""
    programs = client.get("/api/v1/programs", params={"lang": "fr"}).json()
    hiring = {p["id"] for p in programs if "hiring" in p["needs"]}
    assert {"awrach", "tahfiz", "idmaj", "taehil"} <= hiring and "forsa" not in hiring
    detail = client.get("/api/v1/programs/forsa", params={"lang": "fr"}).json()
    assert detail["needs"] == next(p["needs"] for p in programs if p["id"] == "forsa")


def test_statuses_follow_the_freshness_flags_of_the_facts(client: TestClient) -> None:
    """programmes.yaml: auto_entrepreneur and tpme_investment_support_2025 are `active`,
    moukawalati `historical` (closed), every other one `active_unverified` or, for Forsa,
    `closed_for_new_applications_unverified`: to be confirmed."""
    statuses = {p["id"]: p["status"] for p in client.get("/api/v1/programs").json()}
    assert statuses.pop("auto_entrepreneur") == "active"
    assert statuses.pop("tpme") == "active"
    assert statuses.pop("moukawalati") == "closed"
    assert set(statuses.values()) == {"to_confirm"}


def test_a_programme_in_detail_has_dated_benefits_documents_place_and_sources(client: TestClient) -> None:
    forsa = detail(client, "forsa")
    assert forsa["as_of"] == "2025-11" and forsa["confidence"] == "high"
    loan = next(b for b in forsa["benefits"] if "prêt d'honneur" in b["text"].lower())
    assert loan["as_of"] == "2023"
    assert "forsa.ma" in forsa["where"] and "5544" in forsa["where"]
    assert forsa["documents"] and forsa["conditions"]
    assert "5544" in forsa["status_note"]  # no call found after the 2023 edition
    assert all(s["url"].startswith(("https://", "http://")) for s in forsa["sources"])
    assert "telquel_forsa_2022" in {s["key"] for s in forsa["sources"]}


@pytest.mark.parametrize("lang", LANGS)
def test_every_detail_is_complete_in_every_language(client: TestClient, lang: str) -> None:
    for program_id in IDS:
        program = detail(client, program_id, lang)
        assert program["lang"] == lang
        for text in [program["name"], program["summary"], program["where"], *program["documents"]]:
            assert text.strip(), program_id
        assert all(b["text"].strip() for b in program["benefits"] + program["obligations"])


def test_an_unknown_programme_is_a_404_that_names_the_known_ones(client: TestClient) -> None:
    response = client.get("/api/v1/programs/moukawalati2")
    assert response.status_code == 404
    detail_text = response.json()["detail"]
    assert "unknown programme 'moukawalati2'" in detail_text
    assert "forsa" in detail_text and "intelaka" in detail_text


def test_an_unknown_language_is_a_422_with_a_reason(client: TestClient) -> None:
    for url in ("/api/v1/programs", "/api/v1/programs/forsa"):
        response = client.get(url, params={"lang": "en"})
        assert response.status_code == 422
        assert "fr, ar, ary" in response.text


def test_moukawalati_is_shown_as_closed_and_points_elsewhere(client: TestClient) -> None:
    """facts.md §2.1: Moukawalati is closed (2006 → early 2010s); bot_rule: explain it is closed
    and redirect to Génération Entrepreneurs / Forsa / Intelaka."""
    program = detail(client, "moukawalati")
    assert program["status"] == "closed" and program["status_label"] == "Fermé"
    assert program["benefits"] == [] and program["conditions"] == []
    assert all(name in program["summary"] for name in ("Génération Entrepreneurs", "Forsa", "Intelaka"))


# --- four languages, the right scripts, the same figures ---------------------------------------


def _lang_maps(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if set(node) & set(LANGS):
            yield where, node
        for key, value in node.items():
            yield from _lang_maps(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _lang_maps(value, f"{where}[{i}]")


def test_every_text_of_the_file_has_its_four_languages() -> None:
    """Read the YAML itself, not the loader: any text with one language must have all four."""
    document = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    maps = list(_lang_maps(document["programmes"]))
    gaps = [
        f"{where}: {lang}"
        for where, text in maps
        for lang in LANGS
        if not isinstance(text.get(lang), str) or not text[lang].strip()
    ]
    assert gaps == []
    assert len(maps) > 150  # names, summaries, benefits, documents, places, rules... of 12 programmes


@pytest.mark.parametrize("lang", LANGS)
def test_every_programme_has_its_core_texts_in_every_language(lang: str) -> None:
    for programme in load_catalogue(PATH).programmes:
        assert programme.names.get(lang) and programme.summary.get(lang) and programme.where.get(lang)
        if programme.status != "closed":
            assert programme.benefits and programme.documents and programme.rules, programme.id
            assert all(benefit.text.get(lang) for benefit in programme.benefits)


def test_arabic_script_for_ar_and_ary_latin_script_for_fr_and_ary_latn() -> None:
    wrong = [
        f"{where} {lang}"
        for where, text in all_texts()
        for lang in LANGS
        if detect_script(text.get(lang)) != ("arabic" if lang in ("ar", "ary") else "latin")
    ]
    assert wrong == []


def test_the_loader_refuses_a_text_missing_a_language(tmp_path: Path) -> None:
    document = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    del document["programmes"][2]["benefits"][1]["text"]["ary_latn"]
    bad = tmp_path / "programmes.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"programmes\.2\.benefits\.1\.text\.ary_latn"):
        load_catalogue(bad)


def _numbers(text: str) -> Counter[str]:
    """The figures of a text (100 000, 1,2, 0,5...), not the digits Darija Latin uses as letters
    (3, 7, 9 inside words) nor single digits that Arabic may spell out in words. Arabic glues
    "و" (and) to a number: و2023 is 2023."""
    found = re.findall(r"(?<![A-Za-z\d])\d+(?:[ .,/]\d+)*(?![A-Za-z])", text)
    return Counter(n for n in (re.sub(r"[ .,/]", "", f) for f in found) if len(n) > 1)


def test_every_text_gives_the_same_figures_in_the_four_languages() -> None:
    """An amount translated wrongly would mislead: the figures of each text match across languages."""
    mismatches = [
        f"{where} {lang}: {sorted(_numbers(text.get(lang)).elements())} vs fr {sorted(_numbers(text.fr).elements())}"
        for where, text in all_texts()
        for lang in LANGS[1:]
        if _numbers(text.get(lang)) != _numbers(text.fr)
    ]
    assert mismatches == []


AMOUNTS = [
    # (programme, what the French text must say, the fact it comes from)
    (
        "forsa",
        ["0 % jusqu'à 100 000 DH", "10 000 DH de subvention", "10 ans", "2 ans de différé"],
        "facts.md §2.1 Forsa: prêt d'honneur 0% ≤100,000 DH incl. ≤10,000 DH grant, repay ≤10 yrs incl. 2-yr grace",
    ),
    (
        "intelaka",
        ["1,2 MDH à 2 % HT", "1,2 MDH à 1,75 % HT", "80 %", "50 000 DH", "300 000 DH", "10 MDH HT"],
        "facts.md §2.1 Intelaka: ≤1.2 MDH at 2% HT urban / 1.75% HT rural, 80% guarantee, Start-TPE ≤50,000 DH "
        "for loans ≤300k, CA ≤10 MDH",
    ),
    (
        "auto_entrepreneur",
        ["0,5 %", "1 % (services)", "500 000 DH", "200 000 DH", "80 000 DH", "30 %", "1 200 DH"],
        "facts.md §2.1/§4.5 AE: IR 0.5%/1%, CA ≤500k/≤200k DH, 30% withholding above 80k DH/client, AMO ≥1,200 DH/yr",
    ),
    (
        "indh",
        ["60 %", "100 000 DH", "300 000 DH", "40 %", "18 à 35 ans"],
        "facts.md §2.1 INDH P3: 18-35, grant 60% capped 100k DH / 300k DH, 40% own contribution",
    ),
    (
        "awrach",
        ["1 500 DH par mois pendant 9 mois", "12 mois"],
        "facts.md §2.1 Awrach 2 PAE: 1,500 DH/month × 9 months per recruit on ≥12-month contract",
    ),
    (
        "tahfiz",
        ["24 mois", "10 000 DH", "10 salariés"],
        "facts.md §2.1 Tahfiz: 24 months, IR-free salary ≤10,000 DH, up to 10 employees",
    ),
    ("idmaj", ["24 mois", "1 600 à 6 000 DH"], "facts.md §2.1 Idmaj: contract ≤24 months, 1,600-6,000 DH"),
    (
        "ana_moukawil",
        ["2 000 DH", "plafond 10 000 DH", "plafond 100 000 DH", "20 000 DH", "50 % du loyer"],
        "facts.md §1.2 Ana Moukawil: ~2k training, advice ≤10k, accounting ≤10k, TPE consulting ≤100k (avg ~20k), "
        "rent 50% ≤10k/yr",
    ),
    (
        "tpme",
        ["30 %", "1 à 50 MDH", "200 MDH", "10 %"],
        "facts.md §2.1 TPME scheme: primes up to 30%, investment 1-50 MDH, CA 1-200 MDH, ≥10% own funds",
    ),
    (
        "generation_entrepreneurs",
        ["6 février 2023", "100 000", "82 agences"],
        "facts.md §0.1: launched 6 Feb 2023, 100,000 beneficiaries, 82 agencies",
    ),
]


@pytest.mark.parametrize(("program_id", "phrases", "fact"), AMOUNTS, ids=[a[0] for a in AMOUNTS])
def test_amounts_are_exactly_those_of_the_facts(
    client: TestClient, program_id: str, phrases: list[str], fact: str
) -> None:
    said = everything_said(detail(client, program_id))
    assert [p for p in phrases if p not in said] == [], fact


def test_every_benefit_has_its_date_unless_the_facts_give_none(client: TestClient) -> None:
    """facts.md: every figure carries its date; Taehil's entry has none, so its date is to be confirmed."""
    for program_id in IDS:
        program = detail(client, program_id)
        for benefit in program["benefits"] + program["obligations"]:
            assert (benefit["as_of"] is None) == (program_id == "taehil"), (program_id, benefit)
    assert "à confirmer" in detail(client, "taehil")["status_note"]


@pytest.mark.parametrize("lang", LANGS)
def test_what_the_facts_leave_unspecified_is_to_be_confirmed_at_the_agency(client: TestClient, lang: str) -> None:
    """programmes.yaml gives no documents for these programmes (Ana Moukawil: 'not published in
    sources (ask agency)'), and no age or nationality condition for GE and Ana Moukawil."""
    for program_id in ("generation_entrepreneurs", "ana_moukawil", "awrach", "tahfiz", "idmaj", "taehil", "tpme"):
        assert detail(client, program_id, lang)["documents"] == [TO_CONFIRM[lang]], program_id
    age_nationality = load_catalogue(PATH).texts["age_nationality_to_confirm"].get(lang)
    assert age_nationality.endswith(TO_CONFIRM[lang])
    for program_id in ("generation_entrepreneurs", "ana_moukawil"):
        assert age_nationality in detail(client, program_id, lang)["to_check"], program_id


def test_every_cited_source_has_an_address() -> None:
    catalogue = load_catalogue(PATH)
    cited = {s for p in catalogue.programmes for s in p.sources}
    assert cited <= set(catalogue.sources)
    assert all(url.startswith(("https://", "http://")) for url in catalogue.sources.values())


# --- loading -----------------------------------------------------------------------------------


def test_seeding_is_idempotent_and_the_table_follows_the_file(session: Session, tmp_path: Path) -> None:
    try:
        assert seed_programs(session=session, path=PATH) == len(IDS)
        assert seed_programs(session=session, path=PATH) == len(IDS)
        assert session.scalar(select(func.count()).select_from(Program)) == len(IDS)

        document = yaml.safe_load(PATH.read_text(encoding="utf-8"))
        document["programmes"] = [p for p in document["programmes"] if p["id"] != "moukawalati"]
        smaller = tmp_path / "programmes.yaml"
        smaller.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        assert seed_programs(session=session, path=smaller) == len(IDS) - 1
        session.expire_all()
        assert session.get(Program, "moukawalati") is None
    finally:
        seed_programs(session=session, path=PATH)
    row = session.get(Program, "intelaka")
    assert row is not None and row.status == "to_confirm" and row.as_of == "2024-03" and row.position == 3
    assert row.content["source_urls"]["barlamane_intelaka"].startswith("https://barlamane.fr/")
