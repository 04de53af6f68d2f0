"""Conversation events for the funnel: recorded with canonical place ids only, never personal data."""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from app.models import Agency, Event
from app.schemas.events import EventIn, EventOut
from app.services.agencies import get_places
from app.services.availability import as_utc, stored_utc
from app.services.places import ADMIN_KINDS, PlaceIndex

_REGION = frozenset({"region"})


def _admin_id(places: PlaceIndex, text: str | None, kinds: frozenset[str], what: str) -> str | None:
    if not text:
        return None
    place = places.resolve_admin(text, kinds=kinds)
    if place is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{what}: {text!r} is not a known {what}")
    return place.id


def _place_ids(places: PlaceIndex, text: str | None) -> tuple[str | None, str | None]:
    """(region id, province id) of a place a person named; (None, None) when it names none.

    A one-typo guess is dropped: a wrong region would skew the dashboard more than a blank one."""
    found = places.resolve(text) if text else None
    if found is None or found.fuzzy:
        return None, None
    place = found.place
    if place.kind == "region":
        return place.id, None
    province = place.id if place.kind in ADMIN_KINDS else place.province
    return place.region, province


def event_out(event: Event) -> EventOut:
    return EventOut(id=event.id, kind=event.kind, occurred_at=stored_utc(event.occurred_at), channel=event.channel,
                    language=event.language, region_id=event.region_id, province_id=event.province_id,
                    agency_id=event.agency_id, segment=event.segment, program=event.program_id)


def record_event(*, session: Session, payload: EventIn, now: datetime) -> EventOut:
    places = get_places()
    region_id = _admin_id(places, payload.region, _REGION, "region")
    province_id = _admin_id(places, payload.province, ADMIN_KINDS, "province")
    if payload.agency_id:
        agency = session.get(Agency, payload.agency_id)
        if agency is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown agency: {payload.agency_id}")
        region_id, province_id = region_id or agency.region_id, province_id or agency.province_id
    if not (region_id and province_id):
        place_region, place_province = _place_ids(places, payload.place)
        region_id, province_id = region_id or place_region, province_id or place_province
    if province_id and not region_id:
        province = places.get(province_id)
        region_id = province.region if province else None
    event = Event(kind=payload.kind, occurred_at=as_utc(now), channel=payload.channel, language=payload.language,
                  region_id=region_id, province_id=province_id, agency_id=payload.agency_id,
                  segment=payload.segment, program_id=payload.program)
    session.add(event)
    session.commit()
    return event_out(event)
