"""ANAPEC's agency network: import from a CSV export, localised views, nearest-agency search.

The CSV format is documented in `data/reference/agencies.md`. Facts are never filled in: an
address or phone without a verified source stays empty and is shown as "to be confirmed", opening
hours carry `hours_verified=false` until ANAPEC confirms them, and an agency whose coordinates
are unknown is listed by province instead of by distance.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.models import Agency
from app.schemas.agencies import (
    AgencyOut,
    HoursOut,
    NearbyAgencyOut,
    NearestOut,
    Origin,
    PlaceOut,
    Ref,
    ResolvedPlaceOut,
)
from app.services.places import ADMIN_KINDS, Place, PlaceIndex, Resolution, load_places

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No source publishes ANAPEC's opening hours (domain facts §3.1): this documented default stands
# in, flagged hours_verified=false, until ANAPEC confirms each agency's.
DEFAULT_HOURS = "mon-fri 08:30-12:30,13:30-16:30"
# The kinds of site that receive the public; regional directions and the head office do not.
VENUE_KINDS = ("agence", "centre_agr", "antenne")
# Mainland Morocco and the southern provinces, with a margin: catches swapped lat/lon.
MOROCCO_LAT = (20.5, 36.2)
MOROCCO_LON = (-17.5, -0.9)
EARTH_RADIUS_KM = 6371.0088

TEXTS: dict[str, dict[str, str]] = {
    "address_tbc": {
        "fr": "Adresse à confirmer auprès de l'ANAPEC",
        "ar": "العنوان في انتظار التأكيد لدى أنابيك",
        "ary": "العنوان مازال خاصو يتأكد من عند أنابيك",
        "ary_latn": "L'3onwan mazal khasso yt2akked mn 3nd ANAPEC",
    },
    "phone_tbc": {
        "fr": "Téléphone à confirmer auprès de l'ANAPEC",
        "ar": "رقم الهاتف في انتظار التأكيد لدى أنابيك",
        "ary": "النمرة مازال خاصها تتأكد من عند أنابيك",
        "ary_latn": "Nnmra mazal khassha tt2akked mn 3nd ANAPEC",
    },
    "hours_tbc": {
        "fr": "horaires à confirmer auprès de l'ANAPEC",
        "ar": "أوقات الاستقبال في انتظار التأكيد لدى أنابيك",
        "ary": "الأوقات مازال خاصها تتأكد من عند أنابيك",
        "ary_latn": "lw9at mazal khasshom yt2akkdo mn 3nd ANAPEC",
    },
    "closed": {"fr": "Fermé", "ar": "مغلق", "ary": "مسدود", "ary_latn": "Msdoud"},
    "unknown_place": {
        "fr": "Lieu inconnu : « {q} ». Indiquez une ville, une commune ou une province du Maroc.",
        "ar": "مكان غير معروف: «{q}». المرجو ذكر مدينة أو جماعة أو إقليم بالمغرب.",
        "ary": "ما عرفتش هاد البلاصة: «{q}». عطيني شي مدينة ولا جماعة ولا إقليم فالمغرب.",
        "ary_latn": "Ma 3reftch had lblasa: \"{q}\". 3tini chi mdina wla jama3a wla i9lim f lmaghrib.",
    },
    "unknown_agency": {
        "fr": "Agence inconnue : « {q} ».",
        "ar": "وكالة غير معروفة: «{q}».",
        "ary": "ما عرفتش هاد الوكالة: «{q}».",
        "ary_latn": "Ma 3reftch had l'agence: \"{q}\".",
    },
    "no_point": {
        "fr": "Position de {place} inconnue : agences de la province puis de la région, sans distance.",
        "ar": "موقع {place} غير معروف: وكالات الإقليم ثم الجهة، بدون مسافة.",
        "ary": "ما عرفناش فين جات {place} بالضبط: هادو وكالات الإقليم ومن بعد الجهة، بلا مسافة.",
        "ary_latn": "Ma 3rfnach fin jat {place} bdbt: hado les agences dyal l'i9lim w mn b3d jjiha, bla masafa.",
    },
}
_DAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "ar": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
    "ary": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الحد"),
    "ary_latn": ("tnin", "tlat", "larb3a", "lkhmis", "jjem3a", "ssebt", "l7ed"),
}
_DAY_SPAN = {"fr": "Du {a} au {b}", "ar": "من {a} إلى {b}", "ary": "من {a} حتى {b}", "ary_latn": "Mn {a} hta {b}"}
_AND = {"fr": " et ", "ar": " و", "ary": " و ", "ary_latn": " w "}


def text(key: str, lang: str, **values: str) -> str:
    return TEXTS[key][lang].format(**values)


# ---------------------------------------------------------------------------------------------
# Opening hours: "mon-fri 08:30-12:30,13:30-16:30; sat 09:00-12:00"


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hours(spec: str) -> dict[str, list[list[str]]]:
    """Parse the CSV's hours column into {"mon": [["08:30", "12:30"], ...]}; ValueError if wrong."""
    weekly: dict[str, list[list[str]]] = {}
    for group in filter(None, (g.strip() for g in spec.lower().split(";"))):
        days_part, _, ranges_part = group.partition(" ")
        days: list[str] = []
        for item in days_part.split(","):
            first, _, last = item.partition("-")
            if first not in DAYS or (last and last not in DAYS):
                raise ValueError(f"hours: unknown day in {item!r} (use mon, tue, wed, thu, fri, sat, sun)")
            span = DAYS[DAYS.index(first) : DAYS.index(last or first) + 1]
            if not span:
                raise ValueError(f"hours: {item!r} runs backwards")
            days.extend(span)
        ranges: list[list[str]] = []
        for item in filter(None, (r.strip() for r in ranges_part.replace(" ", "").split(","))):
            opens, _, closes = item.partition("-")
            if not (_TIME.match(opens) and _TIME.match(closes)):
                raise ValueError(f"hours: {item!r} is not HH:MM-HH:MM")
            if closes <= opens or (ranges and opens < ranges[-1][1]):
                raise ValueError(f"hours: {item!r} ends before it starts or overlaps the previous range")
            ranges.append([opens, closes])
        if not ranges:
            raise ValueError(f"hours: no time range for {days_part!r}")
        for day in days:
            if day in weekly:
                raise ValueError(f"hours: {day} is given twice")
            weekly[day] = ranges
    if not weekly:
        raise ValueError("hours: empty")
    return {day: weekly[day] for day in DAYS if day in weekly}


def hours_text(weekly: dict[str, Any], *, verified: bool, lang: str) -> str:
    """'Du lundi au vendredi : 08:30–12:30 et 13:30–16:30 (horaires à confirmer auprès de l'ANAPEC)'."""
    names = _DAY_NAMES[lang]
    groups: list[tuple[int, int, list[list[str]]]] = []
    for index, day in enumerate(DAYS):
        ranges = weekly.get(day)
        if not ranges:
            continue
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], index, ranges)
        else:
            groups.append((index, index, ranges))
    parts = []
    for first, last, ranges in groups:
        days = names[first] if first == last else _DAY_SPAN[lang].format(a=names[first], b=names[last])
        times = _AND[lang].join(f"{opens}–{closes}" for opens, closes in ranges)
        parts.append(f"{days[0].upper()}{days[1:]} : {times}" if lang == "fr" else f"{days}: {times}")
    summary = " ; ".join(parts) if lang == "fr" else " ؛ ".join(parts) if lang in ("ar", "ary") else "; ".join(parts)
    summary = summary or text("closed", lang)
    return summary if verified else f"{summary} ({text('hours_tbc', lang)})"


# ---------------------------------------------------------------------------------------------
# Import of the CSV export


COLUMNS = ("id", "name_fr", "name_ar", "kind", "region", "province", "city", "address", "phone",
           "address_verified", "lat", "lon", "coordinates_source", "hours", "hours_verified", "advisers",
           "slot_minutes", "source", "as_of")
REQUIRED = ("id", "name_fr", "province", "city")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TRUE = {"true", "1", "yes", "oui", "vrai"}
_FALSE = {"false", "0", "no", "non", "faux", ""}


class AgencyImportError(ValueError):
    """A file that cannot be imported; `line` is the line of the CSV at fault (1 = header)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)

    @property
    def active(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)

    def summary(self) -> str:
        return (f"{self.active} agencies in the file: {len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged; {len(self.deactivated)} deactivated")


def _flag(value: str, column: str) -> bool:
    key = value.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{column} must be true or false, not {value!r}")


def _bounded_int(value: str, column: str, low: int, high: int, default: int) -> int:
    if not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{column} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{column} must be between {low} and {high}, not {number}")
    return number


def _coordinates(lat: str, lon: str) -> tuple[float, float] | None:
    if not lat.strip() and not lon.strip():
        return None
    try:
        point = float(lat), float(lon)
    except ValueError:
        raise ValueError(f"lat and lon must both be decimal numbers, not {lat!r}, {lon!r}") from None
    if not (MOROCCO_LAT[0] <= point[0] <= MOROCCO_LAT[1] and MOROCCO_LON[0] <= point[1] <= MOROCCO_LON[1]):
        raise ValueError(f"lat {point[0]}, lon {point[1]} is outside Morocco (swapped?)")
    return point


def _row_values(row: dict[str, str], places: PlaceIndex) -> dict[str, Any]:
    """One CSV row as the agency's column values; ValueError with the reason if it is wrong."""
    for column in REQUIRED:
        if not row[column]:
            raise ValueError(f"{column} is empty")
    agency_id = row["id"]
    if not _ID.match(agency_id) or len(agency_id) > 64:
        raise ValueError(f"id {agency_id!r} must be a slug (lower-case letters, digits, hyphens)")
    kind = row["kind"] or "agence"
    if kind not in VENUE_KINDS:
        raise ValueError(f"kind {kind!r} is not a site that receives the public ({', '.join(VENUE_KINDS)})")
    if row["name_ar"] and not any("\u0600" <= c <= "\u06ff" for c in row["name_ar"]):
        raise ValueError("name_ar is not in Arabic script")
    province = places.resolve_admin(row["province"])
    if province is None:
        raise ValueError(f"province {row['province']!r} is not one of Morocco's 75 provinces and prefectures")
    region = places.get(province.region or "")
    if region is None:
        raise ValueError(f"province {row['province']!r} has no region in places.yaml")
    if row["region"]:
        named = places.resolve_admin(row["region"], kinds=frozenset({"region"}))
        if named is None or named.id != region.id:
            raise ValueError(f"region {row['region']!r} does not contain province {province.name_fr!r}")
    found = places.resolve(row["city"])
    city = found.place if found is not None and not found.fuzzy else None
    if city is not None and city.id != province.id and city.province != province.id:
        raise ValueError(f"city {row['city']!r} is not in province {province.name_fr!r}")
    verified = _flag(row["address_verified"], "address_verified")
    if verified:
        for column in ("address", "phone", "source", "as_of"):
            if not row[column]:
                raise ValueError(f"a verified address needs {column}")
    elif row["address"] or row["phone"]:
        raise ValueError("address and phone must stay empty unless address_verified is true (never guessed)")
    point = _coordinates(row["lat"], row["lon"])
    coordinates_source = row["coordinates_source"] or None
    if point is None and city is not None and city.lat is not None and city.lon is not None:
        # The city's own GeoNames point, never a parent's: a wrong town is worse than none.
        point = (city.lat, city.lon)
        coordinates_source = f"GeoNames {city.geonameid} ({city.name_fr}, city level), CC BY 4.0"
    return {
        "id": agency_id,
        "name": row["name_fr"],
        "name_ar": row["name_ar"] or None,
        "kind": kind,
        "region": row["region"] or region.name_fr,
        "province": row["province"],
        "city": row["city"],
        "region_id": region.id,
        "province_id": province.id,
        "place_id": city.id if city is not None else None,
        "address": row["address"] or None,
        "phone": row["phone"] or None,
        "address_verified": verified,
        "lat": point[0] if point else None,
        "lon": point[1] if point else None,
        "coordinates_source": coordinates_source if point else None,
        "opening_hours": parse_hours(row["hours"] or DEFAULT_HOURS),
        "hours_verified": _flag(row["hours_verified"], "hours_verified"),
        "advisers": _bounded_int(row["advisers"], "advisers", 1, 50, 2),
        "slot_minutes": _bounded_int(row["slot_minutes"], "slot_minutes", 5, 240, 30),
        "source": row["source"] or None,
        "as_of": row["as_of"] or None,
        "active": True,
    }


def read_agency_file(content: str, *, places: PlaceIndex) -> list[dict[str, Any]]:
    """Every row of the export, checked; the first wrong row stops everything."""
    content = content.removeprefix("\ufeff")
    first_line = content.split("\n", 1)[0]
    # Spreadsheets set to French write ';' between columns.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise AgencyImportError(1, "the file is empty") from None
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = ([f"unknown columns {unknown}"] if unknown else []) + ([f"missing {missing}"] if missing else [])
        raise AgencyImportError(1, "; ".join(problems or ["a column is repeated"]) + f"; columns: {', '.join(COLUMNS)}")
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    line = 1
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise AgencyImportError(start, f"{len(cells)} cells for {len(header)} columns")
        row = {column: "" for column in COLUMNS} | {h: c.strip() for h, c in zip(header, cells, strict=True)}
        try:
            values = _row_values(row, places)
        except ValueError as error:
            raise AgencyImportError(start, str(error)) from None
        if values["id"] in seen:
            raise AgencyImportError(start, f"id {values['id']!r} already used on line {seen[values['id']]}")
        seen[values["id"]] = start
        rows.append(values)
    if not rows:
        raise AgencyImportError(line, "no agency in the file")
    return rows


def import_agencies(*, session: Session, path: Path, places: PlaceIndex | None = None) -> ImportReport:
    """Make the network exactly the file's: create, update, and deactivate (never delete) the
    agencies it lacks. All or nothing: a wrong row raises AgencyImportError before any write, and
    importing the same file again changes nothing."""
    places = places or load_places(get_settings().reference_dir / "places.yaml")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise AgencyImportError(1, f"the file is not UTF-8 text ({error.reason})") from None
    rows = read_agency_file(content, places=places)
    report = ImportReport()
    existing = {agency.id: agency for agency in session.scalars(select(Agency))}
    try:
        for values in rows:
            agency = existing.get(values["id"])
            if agency is None:
                session.add(Agency(**values))
                report.created.append(values["id"])
                continue
            changed = [column for column, value in values.items() if getattr(agency, column) != value]
            for column in changed:
                setattr(agency, column, values[column])
            (report.updated if changed else report.unchanged).append(values["id"])
        in_file = {values["id"] for values in rows}
        for agency_id, agency in sorted(existing.items()):
            if agency_id not in in_file and agency.active:
                agency.active = False
                report.deactivated.append(agency_id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


# ---------------------------------------------------------------------------------------------
# Reading: localised views


def get_places() -> PlaceIndex:
    return load_places(get_settings().reference_dir / "places.yaml")


def _ref(places: PlaceIndex, place_id: str | None, fallback: str, lang: str) -> Ref:
    place = places.get(place_id) if place_id else None
    return Ref(id=place.id, name=place.name(lang)) if place else Ref(id=None, name=fallback)


def osm_url(agency: Agency) -> str:
    if agency.lat is not None and agency.lon is not None:
        lat, lon = round(agency.lat, 5), round(agency.lon, 5)
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"
    return "https://www.openstreetmap.org/search?query=" + quote(f"ANAPEC {agency.city}, {agency.province}, Maroc")


def agency_out(agency: Agency, *, places: PlaceIndex, lang: str) -> AgencyOut:
    return AgencyOut(**_agency_fields(agency, places=places, lang=lang))


def nearby_out(agency: Agency, *, places: PlaceIndex, lang: str, distance_km: float | None) -> NearbyAgencyOut:
    return NearbyAgencyOut(**_agency_fields(agency, places=places, lang=lang), distance_km=distance_km)


def _agency_fields(agency: Agency, *, places: PlaceIndex, lang: str) -> dict[str, Any]:
    city = places.get(agency.place_id) if agency.place_id else None
    return {
        "id": agency.id,
        "name": agency.name_in(lang),
        "name_fr": agency.name,
        "name_ar": agency.name_ar,
        "kind": agency.kind,
        "active": agency.active,
        "region": _ref(places, agency.region_id, agency.region, lang),
        "province": _ref(places, agency.province_id, agency.province, lang),
        "city": city.name(lang) if city else agency.city,
        "place_id": agency.place_id,
        "address": agency.address if agency.address_verified and agency.address else text("address_tbc", lang),
        "address_verified": bool(agency.address_verified and agency.address),
        "phone": agency.phone if agency.address_verified and agency.phone else text("phone_tbc", lang),
        "phone_verified": bool(agency.address_verified and agency.phone),
        "hours": HoursOut(verified=agency.hours_verified, weekly=agency.opening_hours or {},
                          text=hours_text(agency.opening_hours or {}, verified=agency.hours_verified, lang=lang)),
        "advisers": agency.advisers,
        "slot_minutes": agency.slot_minutes,
        "lat": agency.lat,
        "lon": agency.lon,
        "location_precision": "city" if agency.lat is not None and agency.lon is not None else "unknown",
        "osm_url": osm_url(agency),
        "source": agency.source,
        "as_of": agency.as_of,
        "lang": lang,
    }


def _admin_filter(places: PlaceIndex, value: str, kinds: frozenset[str], what: str) -> str:
    place = places.resolve_admin(value, kinds=kinds)
    if place is None:
        known = "12 regions" if what == "region" else "75 provinces and prefectures"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{what} {value!r} is not one of Morocco's {known}")
    return place.id


def list_agencies(*, session: Session, lang: str, region: str | None = None,
                  province: str | None = None) -> list[AgencyOut]:
    """Active agencies, by region then province then name; region and province accept an id, a
    name in any script or an alias."""
    places = get_places()
    query = select(Agency).where(Agency.active.is_(True))
    if region:
        query = query.where(Agency.region_id == _admin_filter(places, region, frozenset({"region"}), "region"))
    if province:
        query = query.where(Agency.province_id == _admin_filter(places, province, ADMIN_KINDS, "province"))

    def order(agency: Agency) -> tuple[str, str, str]:
        province_place = places.get(agency.province_id or "")
        return (province_place.hcp_code or "" if province_place else "~", agency.name, agency.id)

    return [agency_out(a, places=places, lang=lang) for a in sorted(session.scalars(query), key=order)]


def get_agency(*, session: Session, agency_id: str, lang: str) -> AgencyOut:
    """One agency, also when deactivated (appointments still point to it)."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("unknown_agency", lang, q=agency_id))
    return agency_out(agency, places=get_places(), lang=lang)


# ---------------------------------------------------------------------------------------------
# Places and the nearest agencies


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def place_out(place: Place, *, places: PlaceIndex, lang: str) -> PlaceOut:
    def ref(place_id: str | None) -> Ref | None:
        parent = places.get(place_id) if place_id else None
        return Ref(id=parent.id, name=parent.name(lang)) if parent else None

    return PlaceOut(id=place.id, kind=place.kind, name=place.name(lang), name_fr=place.name_fr, name_ar=place.name_ar,
                    region=ref(place.region), province=ref(place.province), city=ref(place.city),
                    lat=place.lat, lon=place.lon, lang=lang)


def resolved_out(found: Resolution, *, places: PlaceIndex, lang: str) -> ResolvedPlaceOut:
    base = place_out(found.place, places=places, lang=lang)
    return ResolvedPlaceOut(**base.model_dump(), matched=found.surface, fuzzy=found.fuzzy,
                            common_word=found.common_word)


def resolve_place(*, q: str, lang: str) -> ResolvedPlaceOut:
    places = get_places()
    found = places.resolve(q)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("unknown_place", lang, q=q.strip()))
    return resolved_out(found, places=places, lang=lang)


def get_place(*, place_id: str, lang: str) -> PlaceOut:
    places = get_places()
    place = places.get(place_id)
    if place is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("unknown_place", lang, q=place_id))
    return place_out(place, places=places, lang=lang)


def _by_distance(agencies: Iterable[Agency], lat: float, lon: float) -> list[tuple[float, Agency]]:
    located = [(haversine_km(lat, lon, a.lat, a.lon), a) for a in agencies if a.lat is not None and a.lon is not None]
    return sorted(located, key=lambda pair: (pair[0], pair[1].id))


def nearest_agencies(*, session: Session, lang: str, limit: int, lat: float | None = None,
                     lon: float | None = None, place: str | None = None) -> NearestOut:
    """The `limit` active agencies closest to a point or to a place named in free text."""
    if (place is None) == (lat is None and lon is None) or (lat is None) != (lon is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give either place, or both lat and lon (not both)")
    places = get_places()
    active = list(session.scalars(select(Agency).where(Agency.active.is_(True))))

    def ranked(origin: Origin, resolved: ResolvedPlaceOut | None) -> NearestOut:
        assert origin.lat is not None and origin.lon is not None
        nearby = [nearby_out(a, places=places, lang=lang, distance_km=round(d, 1))
                  for d, a in _by_distance(active, origin.lat, origin.lon)[:limit]]
        return NearestOut(place=resolved, origin=origin, agencies=nearby, note=None, lang=lang)

    if place is None:
        return ranked(Origin(lat=lat, lon=lon, source="coordinates"), None)
    if not place.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "place must not be empty")
    found = places.resolve(place)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("unknown_place", lang, q=place.strip()))
    resolved = resolved_out(found, places=places, lang=lang)
    point = places.reference_point(found.place)
    if point is not None:
        return ranked(Origin(lat=point.lat, lon=point.lon, source=point.source), resolved)
    # No coordinates for the place nor its province seat (Fahs-Anjra): its province's agencies,
    # then its region's by distance from the region seat, all without a distance.
    region = places.get(found.place.region or found.place.id)
    in_province = sorted((a for a in active if a.province_id in (found.place.province, found.place.id)),
                         key=lambda a: a.id)
    others = [a for a in active if region is not None and a.region_id == region.id and a not in in_province]
    seat = places.reference_point(region) if region is not None else None
    ordered = in_province + ([a for _, a in _by_distance(others, seat.lat, seat.lon)] if seat else others)
    return NearestOut(place=resolved, origin=Origin(lat=None, lon=None, source="none"), lang=lang,
                      note=text("no_point", lang, place=found.place.name(lang)),
                      agencies=[nearby_out(a, places=places, lang=lang, distance_km=None) for a in ordered[:limit]])
