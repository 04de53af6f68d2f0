"""Conversation events reported by the action server, for the steering dashboard's funnel."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.appointments import Channel, Language, Program

# conversation_started and eligibility_checked feed the funnel; the others say where people go
# next (counted in the breakdowns, never required).
EventKind = Literal["conversation_started", "eligibility_checked", "programme_viewed", "agency_searched",
                    "booking_started", "handoff_requested"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
_CODE = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class EventIn(BaseModel):
    """No personal data: codes only. A free-text `place` is resolved to gazetteer ids and dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"kind": "conversation_started", "channel": "whatsapp", "language": "ary_latn"},
        {"kind": "eligibility_checked", "channel": "web", "language": "fr", "place": "Tanger", "segment": "idea"}]})

    kind: EventKind
    channel: Channel | None = None
    language: Language | None = None
    region: str | None = Field(None, max_length=100, description="a region id or name (any script)")
    province: str | None = Field(None, max_length=100, description="a province or prefecture id or name")
    place: str | None = Field(None, max_length=100, description="a city the person named; only its ids are kept")
    agency_id: str | None = Field(None, pattern=_CODE)
    segment: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,39}$")
    program: Program | None = None


class EventOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 41, "kind": "conversation_started", "occurred_at": "2027-01-08T09:00:00Z", "channel": "whatsapp",
        "language": "ary_latn", "region_id": None, "province_id": None, "agency_id": None, "segment": None,
        "program": None}]})

    id: int
    kind: str
    occurred_at: datetime
    channel: str | None
    language: str | None
    region_id: str | None
    province_id: str | None
    agency_id: str | None
    segment: str | None
    program: str | None
