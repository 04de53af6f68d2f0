"""Localised views of agencies and places, and the answer of the nearest-agency search."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_HOURS_EXAMPLE: dict[str, Any] = {
    "verified": False,
    "text": "Du lundi au vendredi : 08:30–12:30 et 13:30–16:30 (horaires à confirmer auprès de l'ANAPEC)",
    "weekly": {day: [["08:30", "12:30"], ["13:30", "16:30"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}
_AGENCY_EXAMPLE: dict[str, Any] = {
    "id": "settat", "name": "Agence ANAPEC Settat", "name_fr": "Agence ANAPEC Settat", "name_ar": "وكالة أنابيك سطات",
    "kind": "agence", "active": True, "region": {"id": "region-casablanca-settat", "name": "Casablanca-Settat"},
    "province": {"id": "province-settat", "name": "Settat"}, "city": "Settat", "place_id": "settat",
    "address": "Adresse à confirmer auprès de l'ANAPEC", "address_verified": False,
    "phone": "Téléphone à confirmer auprès de l'ANAPEC", "phone_verified": False, "hours": _HOURS_EXAMPLE,
    "advisers": 2, "slot_minutes": 30, "lat": 33.001, "lon": -7.6166, "location_precision": "city",
    "osm_url": "https://www.openstreetmap.org/?mlat=33.001&mlon=-7.6166#map=15/33.001/-7.6166",
    "source": "one agency per province: GE plan 2023, 82 agencies cover every province; placed at the province seat",
    "as_of": None, "lang": "fr",
}


class Ref(BaseModel):
    """A region, province or city: its gazetteer id (None if unknown to it) and localised name."""

    id: str | None
    name: str


class HoursOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_HOURS_EXAMPLE]})

    verified: bool = Field(description="False: ANAPEC has not published them; the text says 'to be confirmed'")
    text: str
    weekly: dict[str, list[list[str]]] = Field(description="day (mon..sun) → [[opens, closes], ...], local time")


class AgencyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_AGENCY_EXAMPLE]})

    id: str
    name: str
    name_fr: str
    name_ar: str | None
    kind: str
    active: bool
    region: Ref
    province: Ref
    city: str
    place_id: str | None
    address: str = Field(description="the verified address, or 'to be confirmed' in the asked language")
    address_verified: bool
    phone: str = Field(description="the verified phone numbers, or 'to be confirmed' in the asked language")
    phone_verified: bool
    hours: HoursOut
    advisers: int
    slot_minutes: int
    lat: float | None
    lon: float | None
    location_precision: Literal["city", "unknown"]
    osm_url: str
    source: str | None
    as_of: str | None
    lang: str


class NearbyAgencyOut(AgencyOut):
    distance_km: float | None = Field(description="haversine distance from the origin; None when it has no point")


class PlaceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "tanger", "kind": "city", "name": "Tanger", "name_fr": "Tanger", "name_ar": "طنجة",
        "region": {"id": "region-tanger-tetouan-al-hoceima", "name": "Tanger-Tétouan-Al Hoceïma"},
        "province": {"id": "prefecture-tanger-assilah", "name": "Tanger-Assilah"}, "city": None,
        "lat": 35.76727, "lon": -5.79975, "lang": "fr"}]})

    id: str = Field(description="canonical value of the bot's `city` entity")
    kind: str = Field(description="region, prefecture, province, prefecture_arrondissements, city, arrondissement "
                                  "or commune")
    name: str
    name_fr: str
    name_ar: str
    region: Ref | None
    province: Ref | None
    city: Ref | None
    lat: float | None
    lon: float | None
    lang: str


class ResolvedPlaceOut(PlaceOut):
    matched: str = Field(description="the words of the text that named the place (normalised)")
    fuzzy: bool = Field(description="matched one typo away: worth a confirmation")
    common_word: bool = Field(description="the name is also an everyday word (e.g. 'safi'): worth a confirmation")


class Origin(BaseModel):
    lat: float | None
    lon: float | None
    source: Literal["coordinates", "place", "city", "province_seat", "none"] = Field(
        description="the coordinates given, the place's own, its city's, its province seat's, or none")


class NearestOut(BaseModel):
    place: ResolvedPlaceOut | None
    origin: Origin
    agencies: list[NearbyAgencyOut]
    note: str | None = Field(description="localised remark when distances could not be measured")
    lang: str
