"""The agency network: listing, detail, nearest search, and the CSV import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app import cli
from app.core.config import get_settings
from app.models import Agency
from app.services.agencies import (
    AgencyImportError,
    haversine_km,
    hours_text,
    import_agencies,
    parse_hours,
)
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

LANGS = ["fr", "ar", "ary", "ary_latn"]
REFERENCE_CSV = get_settings().reference_dir / "agencies.csv"
TO_CONFIRM = {
    "fr": ("Adresse à confirmer", "Téléphone à confirmer", "horaires à confirmer"),
    "ar": ("العنوان في انتظار التأكيد", "رقم الهاتف في انتظار التأكيد", "في انتظار التأكيد"),
    "ary": ("العنوان مازال خاصو يتأكد", "النمرة مازال خاصها تتأكد", "مازال خاصها تتأكد"),
    "ary_latn": ("L'3onwan mazal khasso yt2akked", "Nnmra mazal khassha tt2akked", "mazal khasshom yt2akkdo"),
}


def reference_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(REFERENCE_CSV.open(encoding="utf-8")))


# --- the reference file ------------------------------------------------------------------------


def test_the_reference_network_covers_every_province_and_keeps_facts_apart() -> None:
    rows = reference_rows()
    assert len({row["id"] for row in rows}) == len(rows) == 77
    assert len({row["province"] for row in rows}) == 75
    verified = [row for row in rows if row["address_verified"] == "true"]
    assert {row["id"] for row in verified} == {"tanger", "tanger-fahs", "tanger-centre-agr", "larache", "mdiq",
                                              "tetouan", "chefchaouen", "al-hoceima", "ouazzane"}
    for row in verified:
        assert row["address"] and row["phone"] and row["source"] and row["as_of"], row["id"]
    for row in rows:
        if row not in verified:
            assert row["address"] == row["phone"] == "", row["id"]
        assert row["kind"] in ("agence", "centre_agr"), row["id"]
        assert row["name_ar"] and row["hours_verified"] == "false" and row["advisers"] == "2", row["id"]
        assert (row["lat"] == "") == (row["id"] == "ksar-sghir"), row["id"]
    assert not any("Direction" in row["name_fr"] or "Siège" in row["name_fr"] for row in rows)


# --- listing and detail ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_list_is_localised_and_shows_unverified_facts_as_to_be_confirmed(client: TestClient, lang: str) -> None:
    response = client.get("/api/v1/agencies", params={"lang": lang})
    assert response.status_code == 200
    agencies = {a["id"]: a for a in response.json()}
    assert {row["id"] for row in reference_rows()} <= set(agencies)
    address_tbc, phone_tbc, hours_tbc = TO_CONFIRM[lang]
    settat = agencies["settat"]
    assert settat["address_verified"] is False and settat["address"].startswith(address_tbc)
    assert settat["phone_verified"] is False and settat["phone"].startswith(phone_tbc)
    assert settat["hours"]["verified"] is False and hours_tbc in settat["hours"]["text"]
    assert "08:30" in settat["hours"]["text"] and "16:30" in settat["hours"]["text"]
    tanger = agencies["tanger-fahs"]
    assert tanger["address_verified"] is True and "Lotissement Sabrine" in tanger["address"]
    assert tanger["phone"] == "05 39 95 10 10 / 05 39 95 14 32"
    assert tanger["as_of"] == "~2021-2022" and "massar-almoukawil" in tanger["source"]
    if lang in ("ar", "ary"):
        assert settat["name"] == "وكالة أنابيك سطات" and settat["city"] == "سطات"
        assert settat["province"]["name"] == "سطات" and settat["region"]["name"] == "الدار البيضاء-سطات"
    else:
        assert settat["name"] == "Agence ANAPEC Settat" and settat["region"]["name"] == "Casablanca-Settat"


@pytest.mark.parametrize(("params", "expected"), [
    ({"region": "souss"}, {"agadir", "inezgane", "biougra", "taroudant", "tiznit", "tata"}),
    ({"region": "region-souss-massa"}, {"agadir", "inezgane", "biougra", "taroudant", "tiznit", "tata"}),
    ({"region": "سوس ماسة"}, {"agadir", "inezgane", "biougra", "taroudant", "tiznit", "tata"}),
    ({"province": "Tanger-Assilah"}, {"tanger", "tanger-fahs", "tanger-centre-agr"}),
    ({"province": "tanja"}, {"tanger", "tanger-fahs", "tanger-centre-agr"}),
    ({"province": "إقليم سطات"}, {"settat"}),
    ({"region": "Casablanca-Settat", "province": "settat"}, {"settat"}),
])
def test_list_filters_by_region_or_province_in_any_script(client: TestClient, params: dict[str, str],
                                                           expected: set[str]) -> None:
    response = client.get("/api/v1/agencies", params=params)
    assert response.status_code == 200
    assert {a["id"] for a in response.json()} == expected


@pytest.mark.parametrize("params", [{"region": "Atlantis"}, {"province": "Narnia"}, {"province": "souss"}])
def test_an_unknown_filter_is_a_422_with_a_reason(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/agencies", params=params)
    assert response.status_code == 422
    assert "is not one of Morocco's" in response.json()["detail"]


def test_detail_of_a_verified_agency(client: TestClient) -> None:
    body = client.get("/api/v1/agencies/tanger-centre-agr", params={"lang": "ar"}).json()
    assert body["kind"] == "centre_agr" and body["name"] == "مركز الأنشطة المدرة للدخل - طنجة"
    assert body["address"] == "El Mers, Tanger" and body["address_verified"] is True
    assert body["place_id"] == "tanger" and body["province"]["id"] == "prefecture-tanger-assilah"
    assert body["hours"]["weekly"]["mon"] == [["08:30", "12:30"], ["13:30", "16:30"]]
    assert "sat" not in body["hours"]["weekly"] and body["advisers"] == 2 and body["slot_minutes"] == 30
    assert body["location_precision"] == "city"
    assert body["osm_url"].startswith("https://www.openstreetmap.org/?mlat=35.76727&mlon=-5.79975")


@pytest.mark.parametrize(("lang", "fragment"), [
    ("fr", "Agence inconnue"), ("ar", "وكالة غير معروفة"), ("ary", "ما عرفتش هاد الوكالة"),
    ("ary_latn", "Ma 3reftch had l'agence"),
])
def test_an_unknown_agency_is_a_404_with_a_localised_reason(client: TestClient, lang: str, fragment: str) -> None:
    response = client.get("/api/v1/agencies/atlantis", params={"lang": lang})
    assert response.status_code == 404
    assert fragment in response.json()["detail"] and "atlantis" in response.json()["detail"]


def test_an_agency_without_coordinates_links_to_an_openstreetmap_search(client: TestClient) -> None:
    body = client.get("/api/v1/agencies/ksar-sghir").json()
    assert body["lat"] is None and body["location_precision"] == "unknown"
    assert body["osm_url"].startswith("https://www.openstreetmap.org/search?query=ANAPEC%20Ksar%20Sghir")


def test_unknown_language_is_refused(client: TestClient) -> None:
    assert client.get("/api/v1/agencies", params={"lang": "en"}).status_code == 422


# --- nearest -----------------------------------------------------------------------------------


def test_nearest_is_not_shadowed_by_the_agency_route(client: TestClient) -> None:
    response = client.get("/api/v1/agencies/nearest", params={"lat": 34.02, "lon": -6.83})
    assert response.status_code == 200 and "agencies" in response.json()


def test_nearest_by_coordinates_ranks_by_haversine_distance(client: TestClient) -> None:
    # A point in Casablanca, ~20 km south-west of Mohammédia.
    body = client.get("/api/v1/agencies/nearest", params={"lat": 33.5731, "lon": -7.5898, "limit": 4}).json()
    agencies = body["agencies"]
    assert body["place"] is None and body["origin"] == {"lat": 33.5731, "lon": -7.5898, "source": "coordinates"}
    assert [a["id"] for a in agencies][:1] == ["casablanca"] and len(agencies) == 4
    distances = [a["distance_km"] for a in agencies]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(haversine_km(33.5731, -7.5898, 33.58831, -7.61138), abs=0.1)
    assert {a["id"] for a in agencies} <= {"casablanca", "mediouna", "nouaceur", "mohammedia", "berrechid"}
    assert all(a["osm_url"].startswith("https://www.openstreetmap.org/") for a in agencies)


def test_nearest_from_the_far_south(client: TestClient) -> None:
    body = client.get("/api/v1/agencies/nearest", params={"lat": 23.7, "lon": -15.95, "limit": 1}).json()
    assert body["agencies"][0]["id"] == "dakhla" and body["agencies"][0]["distance_km"] < 5


@pytest.mark.parametrize(("place", "lang", "expected_place", "first_agency"), [
    ("فطنجة", "ar", "tanger", "tanger"),
    ("بالرباط", "ary", "rabat", "rabat"),
    ("frbat", "ary_latn", "rabat", "rabat"),
    ("f casa", "ary_latn", "casablanca", "casablanca"),
    ("ana f tanja 3afak", "ary_latn", "tanger", "tanger"),
    ("Casablanca", "fr", "casablanca", "casablanca"),
    ("Martil", "fr", "martil", "mdiq"),
    ("souss", "fr", "region-souss-massa", "agadir"),
    ("province de Settat", "fr", "province-settat", "settat"),
    ("ana mn sidi allal tazi", "ary_latn", "sidi-allal-tazi", "kenitra"),
    # The canonical ids the bot's `city` entity holds, hyphens and all.
    ("ksar-el-kebir", "ar", "ksar-el-kebir", "larache"),
    ("casablanca-sidi-moumen", "ary_latn", "casablanca-sidi-moumen", "casablanca"),
])
def test_nearest_by_place_in_any_language(client: TestClient, place: str, lang: str, expected_place: str,
                                          first_agency: str) -> None:
    response = client.get("/api/v1/agencies/nearest", params={"place": place, "lang": lang})
    assert response.status_code == 200
    body = response.json()
    assert body["place"]["id"] == expected_place and body["lang"] == lang
    assert len(body["agencies"]) == 3
    assert body["agencies"][0]["id"] == first_agency
    assert all(a["distance_km"] is not None for a in body["agencies"])
    for agency in body["agencies"]:
        assert agency["hours"]["text"] and agency["osm_url"] and agency["address"] and agency["phone"]


def test_nearest_tells_the_unverified_address_apart_in_each_language(client: TestClient) -> None:
    for lang in LANGS:
        body = client.get("/api/v1/agencies/nearest", params={"place": "Settat", "lang": lang, "limit": 1}).json()
        agency = body["agencies"][0]
        assert agency["id"] == "settat" and agency["distance_km"] == 0.0
        address_tbc, phone_tbc, hours_tbc = TO_CONFIRM[lang]
        assert agency["address"].startswith(address_tbc) and agency["phone"].startswith(phone_tbc)
        assert hours_tbc in agency["hours"]["text"]


def test_a_commune_without_coordinates_is_measured_from_its_province_seat(client: TestClient) -> None:
    body = client.get("/api/v1/agencies/nearest", params={"place": "ana mn jma3at mnasra", "limit": 1}).json()
    assert body["place"]["lat"] is None and body["origin"]["source"] == "province_seat"
    assert body["agencies"][0]["id"] == "kenitra" and body["agencies"][0]["distance_km"] == 0.0


def test_a_place_without_any_known_point_lists_its_province_then_its_region(client: TestClient) -> None:
    body = client.get("/api/v1/agencies/nearest", params={"place": "Ksar Sghir", "limit": 3, "lang": "ary"}).json()
    assert body["place"]["id"] == "ksar-sghir" and body["origin"]["source"] == "none"
    ids = [a["id"] for a in body["agencies"]]
    assert ids[0] == "ksar-sghir" and {ids[1], ids[2]} <= {"tanger", "tanger-fahs", "tanger-centre-agr"}
    assert all(a["distance_km"] is None for a in body["agencies"])
    assert body["note"] and "القصر الصغير" in body["note"]


def test_limit_bounds(client: TestClient) -> None:
    body = client.get("/api/v1/agencies/nearest", params={"place": "fes", "limit": 1}).json()
    assert [a["id"] for a in body["agencies"]] == ["fes"]
    for limit in (0, 21):
        assert client.get("/api/v1/agencies/nearest", params={"place": "fes", "limit": limit}).status_code == 422


@pytest.mark.parametrize("params", [
    {},
    {"place": "casa", "lat": 33.5, "lon": -7.6},
    {"lat": 33.5},
    {"lon": -7.6},
    {"lat": 91, "lon": -7.6},
    {"lat": 33.5, "lon": -181},
    {"lat": "north", "lon": -7.6},
    {"place": "   "},
])
def test_neither_or_both_or_out_of_range_is_a_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/v1/agencies/nearest", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize(("lang", "fragment"), [
    ("fr", "Lieu inconnu"), ("ar", "مكان غير معروف"), ("ary", "ما عرفتش هاد البلاصة"),
    ("ary_latn", "Ma 3reftch had lblasa"),
])
def test_nearest_to_an_unknown_place_is_a_404_with_a_localised_reason(client: TestClient, lang: str,
                                                                      fragment: str) -> None:
    response = client.get("/api/v1/agencies/nearest", params={"place": "bghit nakhod maw3id", "lang": lang})
    assert response.status_code == 404
    assert fragment in response.json()["detail"]


# --- hours ---------------------------------------------------------------------------------------


def test_hours_parse_and_read_in_every_language() -> None:
    weekly = parse_hours("mon-thu 08:30-12:30,13:30-16:30; fri 08:30-11:30,15:00-16:30; sat 09:00-12:00")
    assert list(weekly) == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert weekly["fri"] == [["08:30", "11:30"], ["15:00", "16:30"]]
    assert hours_text(weekly, verified=True, lang="fr") == (
        "Du lundi au jeudi : 08:30–12:30 et 13:30–16:30 ; Vendredi : 08:30–11:30 et 15:00–16:30 ; Samedi : 09:00–12:00")
    latn = hours_text(weekly, verified=True, lang="ary_latn")
    assert latn.startswith("Mn tnin hta lkhmis: 08:30–12:30 w 13:30–16:30")
    assert "من الاثنين إلى الخميس" in hours_text(weekly, verified=True, lang="ar")
    assert "(الأوقات مازال خاصها تتأكد" in hours_text(weekly, verified=False, lang="ary")
    assert parse_hours("mon,wed 09:00-12:00") == {"mon": [["09:00", "12:00"]], "wed": [["09:00", "12:00"]]}


@pytest.mark.parametrize("spec", [
    "monday 08:30-12:30", "mon-fri 8:30-12:30", "mon-fri 12:30-08:30", "mon-fri 08:30-12:30,12:00-16:00",
    "mon-fri", "fri-mon 08:00-12:00", "mon 08:00-12:00; mon 14:00-16:00", "", "mon-fri 25:00-26:00",
])
def test_wrong_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="hours"):
        parse_hours(spec)


# --- import --------------------------------------------------------------------------------------


@pytest.fixture
def restore_network(session_factory: sessionmaker[Session]) -> Iterator[None]:
    """Imports rewrite the shared reference table: put back the real network afterwards, and the
    agencies other test modules created, which an import deactivates."""
    with session_factory() as session:
        active_before = set(session.scalars(select(Agency.id).where(Agency.active.is_(True))))
    yield
    with session_factory() as session:
        import_agencies(session=session, path=REFERENCE_CSV)
        for agency in session.scalars(select(Agency).where(Agency.id.in_(active_before))):
            agency.active = True
        session.commit()


def write_csv(path: Path, rows: list[dict[str, str]], *, delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def snapshot(session: Session) -> dict[str, tuple[Any, ...]]:
    session.expire_all()
    return {a.id: (a.name, a.address, a.phone, a.lat, a.lon, a.active, a.advisers, a.opening_hours, a.hours_verified)
            for a in session.scalars(select(Agency))}


def test_importing_the_reference_file_again_changes_nothing(session: Session, restore_network: None) -> None:
    before = snapshot(session)
    report = import_agencies(session=session, path=REFERENCE_CSV)
    assert report.created == [] and report.updated == [] and len(report.unchanged) == 77
    assert not report.changed
    assert snapshot(session) == before


def test_an_export_replaces_the_network_and_deactivates_what_it_lacks(session: Session, client: TestClient,
                                                                        tmp_path: Path, restore_network: None) -> None:
    rows = [row for row in reference_rows() if row["id"] != "settat"]
    for row in rows:
        if row["id"] == "tanger-fahs":
            row["advisers"] = "4"
            row["hours"] = "mon-fri 08:30-16:30; sat 09:00-12:00"
            row["hours_verified"] = "true"
    rows.append(dict(rows[0], id="settat-2", name_fr="Agence ANAPEC Settat 2", name_ar="وكالة أنابيك سطات 2",
                     province="Settat", region="Casablanca-Settat", city="Settat", address="", phone="",
                     address_verified="false", lat="", lon="", coordinates_source="", source="test", as_of=""))
    export = write_csv(tmp_path / "export.csv", rows, delimiter=";")

    first = import_agencies(session=session, path=export)
    assert first.created == ["settat-2"] and first.updated == ["tanger-fahs"]
    assert "settat" in first.deactivated
    second = import_agencies(session=session, path=export)
    assert second.created == second.updated == second.deactivated == [] and second.active == 77

    settat = session.get(Agency, "settat")
    assert settat is not None and settat.active is False  # kept for the appointments that reference it
    created = session.get(Agency, "settat-2")
    assert created is not None and created.place_id == "settat" and created.lat == pytest.approx(33.00103)
    assert created.coordinates_source and "GeoNames" in created.coordinates_source
    listed = {a["id"] for a in client.get("/api/v1/agencies", params={"province": "settat"}).json()}
    assert listed == {"settat-2"}
    detail = client.get("/api/v1/agencies/settat").json()
    assert detail["active"] is False
    nearest = client.get("/api/v1/agencies/nearest", params={"place": "Settat", "limit": 1}).json()
    assert nearest["agencies"][0]["id"] == "settat-2"
    fahs = client.get("/api/v1/agencies/tanger-fahs").json()
    assert fahs["advisers"] == 4 and fahs["hours"]["verified"] is True and "sat" in fahs["hours"]["weekly"]
    assert "à confirmer" not in fahs["hours"]["text"]


def _bad_rows() -> list[tuple[str, Any, str]]:
    return [
        ("province", "Atlantis", "province 'Atlantis' is not one of Morocco's 75 provinces"),
        ("id", "Tanger Fahs", "must be a slug"),
        ("kind", "direction_regionale", "is not a site that receives the public"),
        ("lat", "-5.7", "outside Morocco"),
        ("hours", "lundi 08:30-12:30", "hours: unknown day"),
        ("advisers", "many", "advisers must be a whole number"),
        ("advisers", "0", "advisers must be between 1 and 50"),
        ("address_verified", "peut-être", "address_verified must be true or false"),
        ("city", "Oujda", "city 'Oujda' is not in province"),
        ("region", "Souss-Massa", "does not contain province"),
        ("name_ar", "Agence", "name_ar is not in Arabic script"),
        ("name_fr", "", "name_fr is empty"),
    ]


@pytest.mark.parametrize(("column", "value", "reason"), _bad_rows())
def test_a_malformed_row_stops_the_import_with_its_line_and_writes_nothing(
        session: Session, tmp_path: Path, column: str, value: str, reason: str, restore_network: None) -> None:
    rows = reference_rows()
    rows[11][column] = value  # the Nador agency, line 13: the header is line 1
    rows[0]["advisers"] = "5"  # a valid change before the bad row must not be written either
    before = snapshot(session)
    with pytest.raises(AgencyImportError, match=reason) as caught:
        import_agencies(session=session, path=write_csv(tmp_path / "bad.csv", rows))
    assert caught.value.line == 13 and str(caught.value).startswith("line 13: ")
    assert snapshot(session) == before


@pytest.mark.parametrize(("mutate", "line", "reason"), [
    (lambda rows: rows.append(dict(rows[0])), 79, "id 'tanger' already used on line 2"),
    (lambda rows: rows[3].update(address="1 rue Inventée", address_verified="false"), 5, "must stay empty"),
    (lambda rows: rows[12].update(address_verified="true"), 14, "a verified address needs address"),
])
def test_duplicates_and_unverified_addresses_are_refused(session: Session, tmp_path: Path, mutate: Any, line: int,
                                                         reason: str, restore_network: None) -> None:
    rows = reference_rows()
    mutate(rows)
    with pytest.raises(AgencyImportError, match=reason) as caught:
        import_agencies(session=session, path=write_csv(tmp_path / "bad.csv", rows))
    assert caught.value.line == line


@pytest.mark.parametrize(("content", "reason"), [
    ("", "the file is empty"),
    ("id,name_fr,province\n", "missing \\['city'\\]"),
    ("id,name_fr,province,city,colour\n", "unknown columns \\['colour'\\]"),
    ("id,name_fr,province,city\n", "no agency in the file"),
    ("id,name_fr,province,city\nx,Agence X,Settat\n", "3 cells for 4 columns"),
])
def test_a_malformed_file_is_refused(session: Session, tmp_path: Path, content: str, reason: str,
                                     restore_network: None) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AgencyImportError, match=reason):
        import_agencies(session=session, path=path)


def test_the_cli_imports_a_file_and_reports_errors(session_factory: sessionmaker[Session], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                   restore_network: None) -> None:
    monkeypatch.setattr(cli, "get_sessionmaker", lambda: session_factory)
    assert cli.main(["import-agencies", str(REFERENCE_CSV)]) == 0
    assert "77 agencies in the file: 0 created, 0 updated, 77 unchanged; " in capsys.readouterr().out
    rows = reference_rows()
    rows[4]["province"] = "Atlantis"
    assert cli.main(["import-agencies", str(write_csv(tmp_path / "bad.csv", rows))]) == 1
    err = capsys.readouterr().err
    assert "line 6: province 'Atlantis'" in err and "nothing was imported" in err
    assert cli.main(["import-agencies", str(tmp_path / "missing.csv")]) == 2
