"""ANAPEC agencies, the nearest ones to a point or a place, and the gazetteer the bot resolves
places with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.deps import LangDep, SessionDep
from app.schemas.agencies import AgencyOut, NearestOut, PlaceOut, ResolvedPlaceOut
from app.services.agencies import get_agency, get_place, list_agencies, nearest_agencies, resolve_place

# No prefix: the router serves /agencies and /places, and declares /agencies/nearest before
# /agencies/{agency_id} so that "nearest" is never taken for an agency id.
router = APIRouter()

Responses = dict[int | str, dict[str, Any]]
_UNKNOWN_PLACE: Responses = {404: {"description": "the text names no known Moroccan place (localised reason)"}}
_UNKNOWN_AGENCY: Responses = {404: {"description": "unknown agency (localised reason)"}}
_BAD_FILTER: Responses = {422: {"description": "unknown region or province"}}


@router.get("/agencies", response_model=list[AgencyOut], tags=["agencies"],
            responses=_BAD_FILTER)
def get_agencies(
    session: SessionDep,
    lang: LangDep,
    region: Annotated[str | None, Query(description="region id, name or alias", examples=["souss"])] = None,
    province: Annotated[str | None, Query(description="province id, name or alias", examples=["settat"])] = None,
) -> list[AgencyOut]:
    """Active agencies, optionally of one region or province, localised."""
    return list_agencies(session=session, lang=lang, region=region, province=province)


@router.get("/agencies/nearest", response_model=NearestOut, tags=["agencies"], responses=_UNKNOWN_PLACE)
def get_nearest_agencies(
    session: SessionDep,
    lang: LangDep,
    lat: Annotated[float | None, Query(ge=-90, le=90, examples=[35.77])] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, examples=[-5.8])] = None,
    place: Annotated[str | None, Query(max_length=200, description="free text in any language or script, or "
                                       "a place's canonical id", examples=["ana f tanja 3afak"])] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 3,
) -> NearestOut:
    """The closest active agencies to lat/lon or to a place named in free text, by distance."""
    return nearest_agencies(session=session, lang=lang, limit=limit, lat=lat, lon=lon, place=place)


@router.get("/agencies/{agency_id}", response_model=AgencyOut, tags=["agencies"],
            responses=_UNKNOWN_AGENCY)
def get_agency_detail(agency_id: str, session: SessionDep, lang: LangDep) -> AgencyOut:
    """One agency (also a deactivated one, which appointments may still reference)."""
    return get_agency(session=session, agency_id=agency_id, lang=lang)


@router.get("/places/resolve", response_model=ResolvedPlaceOut, tags=["places"], responses=_UNKNOWN_PLACE)
def get_resolved_place(
    lang: LangDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["فطنجة"])],
) -> ResolvedPlaceOut:
    """The Moroccan place a free text names (its id is the bot's canonical `city` value)."""
    return resolve_place(q=q, lang=lang)


@router.get("/places/{place_id}", response_model=PlaceOut, tags=["places"], responses=_UNKNOWN_PLACE)
def get_place_detail(place_id: str, lang: LangDep) -> PlaceOut:
    """One place of the gazetteer by its id."""
    return get_place(place_id=place_id, lang=lang)
