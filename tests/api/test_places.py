"""The gazetteer of Moroccan places: its content, free-text resolution and GET /places."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from app.core.config import get_settings
from app.core.db import get_session
from app.main import create_app
from app.services import places as places_module
from app.services.places import PlaceIndex, alias_keys, load_places
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def places() -> PlaceIndex:
    return load_places(get_settings().reference_dir / "places.yaml")


# (text, expected place id): French, MSA, Darija in Arabic script and Arabizi, with clitics,
# articles, case, accents, tatweel, letters repeated and one typo.
SPELLINGS = [
    # fr / Latin official names
    ("Casablanca", "casablanca"),
    ("CASABLANCA", "casablanca"),
    ("Tanger", "tanger"),
    ("Tétouan", "tetouan"),
    ("Fès", "fes"),
    ("fez", "fes"),
    ("Meknès", "meknes"),
    ("Laâyoune", "laayoune"),
    ("El Jadida", "el-jadida"),
    ("Kénitra", "kenitra"),
    ("Essaouira", "essaouira"),
    ("Al Hoceïma", "al-hoceima"),
    ("M'diq", "mdiq"),
    ("Tan-Tan", "tan-tan"),
    ("tan tan", "tan-tan"),
    ("je cherche l'agence de Marrakech svp", "marrakech"),
    ("à Agadir", "agadir"),
    ("Béni Mellal", "beni-mellal"),
    ("casablnca", "casablanca"),  # one typo
    # ar (Modern Standard Arabic)
    ("الدار البيضاء", "casablanca"),
    ("طنجة", "tanger"),
    ("الرباط", "rabat"),
    ("بالرباط", "rabat"),
    ("في مراكش", "marrakech"),
    ("العيون", "laayoune"),
    ("وجدة", "oujda"),
    ("الحسيمة", "al-hoceima"),
    ("القنيطرة", "kenitra"),
    ("الداخلة", "dakhla"),
    ("ﺍﻟﺮﺑﺎﻁ", "rabat"),  # presentation forms pasted from a PDF
    ("طنجـــة", "tanger"),  # tatweel
    # ary (Darija, Arabic script)
    ("فطنجة", "tanger"),
    ("كازا", "casablanca"),
    ("فكازا", "casablanca"),
    ("فالدار البيضاء", "casablanca"),
    ("للرباط", "rabat"),
    ("أنا ساكن فمكناس", "meknes"),
    ("بغيت نمشي لأكادير", "agadir"),
    ("فالناظور", "nador"),
    ("الراشيدية", "errachidia"),
    # ary_latn (Arabizi)
    ("frbat", "rabat"),
    ("f casa", "casablanca"),
    ("ana f tanja 3afak", "tanger"),
    ("kaza", "casablanca"),
    ("dar lbida", "casablanca"),
    ("rbat", "rabat"),
    ("mrrakch", "marrakech"),
    ("fmrrakch", "marrakech"),
    ("wjda", "oujda"),
    ("fes", "fes"),
    ("fas", "fes"),
    ("l3ayoun", "laayoune"),
    ("fl3ayoun", "laayoune"),
    ("jdida", "el-jadida"),
    ("qnitra", "kenitra"),
    ("f lqnitra", "kenitra"),
    ("swira", "essaouira"),
    ("l7oceima", "al-hoceima"),
    ("tanjaaaa", "tanger"),
    ("bghit rdv f agadir", "agadir"),
    ("ana mn khribga", "khouribga"),
    ("sla", "sale"),
]


@pytest.mark.parametrize(("text", "expected"), SPELLINGS)
def test_spellings_scripts_and_clitics_resolve_to_the_canonical_place(places: PlaceIndex, text: str,
                                                                        expected: str) -> None:
    found = places.resolve(text)
    assert found is not None, text
    assert found.place.id == expected


@pytest.mark.parametrize(("text", "expected", "kind"), [
    ("province de Settat", "province-settat", "province"),
    ("إقليم سطات", "province-settat", "province"),
    ("Al Haouz", "province-al-haouz", "province"),
    ("Fahs-Anjra", "province-fahs-anjra", "province"),
    ("souss", "region-souss-massa", "region"),
    ("L'Oriental", "region-oriental", "region"),
    ("جهة سوس ماسة", "region-souss-massa", "region"),
    ("Sidi Bernoussi", "prefecture-sidi-bernoussi", "prefecture_arrondissements"),
    ("Bni Makada", "tanger-bni-makada", "arrondissement"),
    ("Ksar Sghir", "ksar-sghir", "city"),
    ("ana mn sidi allal tazi", "sidi-allal-tazi", "commune"),
    ("Ameur Seflia", "ameur-seflia", "commune"),  # not the town of Ameur that its name contains
    ("Ameur", "ameur", "city"),
])
def test_provinces_regions_districts_and_communes_are_places_too(places: PlaceIndex, text: str, expected: str,
                                                                  kind: str) -> None:
    found = places.resolve(text)
    assert found is not None and found.place.id == expected and found.place.kind == kind


@pytest.mark.parametrize("text", [
    "bonjour", "bghit nakhod maw3id", "wach nta robot", "awrach", "3tini rdv", "شكرا على المساعدة",
    "صباح الخير", "merci", "mrsi bzaf", "paris", "xyzzy", "je veux partir en france", "مرسي بزاف",
])
def test_ordinary_words_are_not_places(places: PlaceIndex, text: str) -> None:
    assert places.resolve(text) is None


def test_a_canonical_id_is_its_place_and_a_word_that_is_an_id_keeps_its_flag(places: PlaceIndex) -> None:
    found = places.resolve("ksar-el-kebir")
    assert found is not None and found.place.id == "ksar-el-kebir" and not found.fuzzy
    safi = places.resolve("safi")
    assert safi is not None and safi.common_word


def test_a_town_named_like_a_word_yields_to_another_place_and_says_so(places: PlaceIndex) -> None:
    alone = places.resolve("safi")
    assert alone is not None and alone.place.id == "safi" and alone.common_word
    with_casa = places.resolve("safi, ana f casa")
    assert with_casa is not None and with_casa.place.id == "casablanca" and not with_casa.common_word
    with_commune = places.resolve("safi, ana mn mnasra")
    assert with_commune is not None and with_commune.place.id == "mnasra"


def test_a_one_typo_guess_is_flagged_and_only_one_typo_is_allowed(places: PlaceIndex) -> None:
    typo = places.resolve("casablnca")
    assert typo is not None and typo.fuzzy
    assert places.resolve("Casablanca") is not None and not places.resolve("Casablanca").fuzzy  # type: ignore[union-attr]
    assert places.resolve("cazablnca") is None  # two changes


def test_the_gazetteer_covers_the_administrative_map(places: PlaceIndex) -> None:
    assert len(places.of_kind("region")) == 12
    provinces = places.of_kind("province", "prefecture")
    assert len(provinces) == 75
    for place in places.places.values():
        assert place.name_fr and place.name_ar, place.id
        assert any("\u0600" <= c <= "\u06ff" for c in place.name_ar), place.id
        if place.kind != "region":
            assert place.region in places.places, place.id
    for province in provinces:
        seat = places.get(province.seat or "")
        assert seat is not None and seat.province == province.id, province.id
        # Every seat has GeoNames coordinates but Ksar Sghir, which no shipped table has.
        assert (seat.lat is None) == (province.id == "province-fahs-anjra"), province.id
    assert len(places) > 1500
    assert places.alias_count > 5000


def test_seat_coordinates_are_the_domain_facts_geonames_points(places: PlaceIndex) -> None:
    import csv

    # A verbatim copy of shared/domain/regions_provinces_coords.csv (the repository must stand
    # alone: CI clones it with nothing beside it).
    facts = REPO / "data" / "reference" / "regions_provinces_coords.csv"
    compared = 0
    for row in csv.DictReader(facts.open(encoding="utf-8")):
        province = places.resolve_admin(row["province_or_prefecture"])
        assert province is not None, row
        if row["lat"]:
            assert province.lat == pytest.approx(float(row["lat"]), abs=1e-3), row
            assert province.lon == pytest.approx(float(row["lon"]), abs=1e-3), row
            compared += 1
    assert compared == 71


def test_alias_keys_cover_apostrophes_and_hyphens() -> None:
    assert {"m'diq", "m diq", "mdiq"} <= alias_keys("M'diq")
    assert {"tan-tan", "tan tan", "tantan"} <= alias_keys("Tan-Tan")
    assert alias_keys("طنجة-أصيلة") == {"طنجه-اصيله", "طنجه اصيله"}


def test_places_yaml_is_what_the_build_script_writes() -> None:
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_places.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout


# --- endpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "lang", "expected_id", "expected_name"), [
    ("Casablanca", "fr", "casablanca", "Casablanca"),
    ("الدار البيضاء", "ar", "casablanca", "الدار البيضاء"),
    ("فطنجة", "ary", "tanger", "طنجة"),
    ("frbat", "ary_latn", "rabat", "Rabat"),
])
def test_resolve_returns_the_place_in_the_asked_language(client: TestClient, q: str, lang: str, expected_id: str,
                                                          expected_name: str) -> None:
    response = client.get("/api/v1/places/resolve", params={"q": q, "lang": lang})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == expected_id and body["name"] == expected_name and body["lang"] == lang
    assert body["kind"] == "city" and body["province"]["id"] and body["region"]["id"]
    assert body["lat"] is not None and body["fuzzy"] is False


@pytest.mark.parametrize(("lang", "fragment"), [
    ("fr", "Lieu inconnu"), ("ar", "مكان غير معروف"), ("ary", "ما عرفتش"), ("ary_latn", "Ma 3reftch"),
])
def test_an_unknown_place_is_a_404_with_a_localised_reason(client: TestClient, lang: str, fragment: str) -> None:
    response = client.get("/api/v1/places/resolve", params={"q": "Atlantis", "lang": lang})
    assert response.status_code == 404
    assert fragment in response.json()["detail"] and "Atlantis" in response.json()["detail"]


def test_resolve_needs_a_query(client: TestClient) -> None:
    assert client.get("/api/v1/places/resolve").status_code == 422
    assert client.get("/api/v1/places/resolve", params={"q": ""}).status_code == 422


def test_a_place_by_id(client: TestClient) -> None:
    body = client.get("/api/v1/places/province-al-haouz", params={"lang": "ar"}).json()
    assert body["name"] == "الحوز" and body["kind"] == "province" and body["region"]["id"] == "region-marrakech-safi"
    assert client.get("/api/v1/places/atlantis").status_code == 404


def test_concurrent_first_loads_build_the_index_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []
    build = places_module.read_places

    def counted(path: Path) -> PlaceIndex:
        builds.append(path)
        return build(path)

    monkeypatch.setattr(places_module, "read_places", counted)
    places_module._cached.cache_clear()
    path = get_settings().reference_dir / "places.yaml"
    with ThreadPoolExecutor(max_workers=8) as pool:
        indexes = list(pool.map(lambda _: load_places(path), range(8)))
    assert builds == [path] and all(index is indexes[0] for index in indexes)


def test_the_backend_builds_the_index_before_serving(session_factory: sessionmaker[Session]) -> None:
    places_module._cached.cache_clear()
    app = create_app()
    app.dependency_overrides[get_session] = lambda: session_factory()  # no notifier on a test database
    with TestClient(app):
        # Started, and not one request made: the index is already there.
        assert places_module._cached.cache_info().currsize == 1
