"""The steering dashboard: the funnel, its breakdowns, progress toward the plan's target, and
the agencies' capacity in the coming weeks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Step = Literal["conversations", "eligibility_checks", "bookings", "attended"]
Dimension = Literal["region", "agency", "segment", "program", "channel", "language", "week"]


class FunnelStep(BaseModel):
    step: Step
    label: str
    count: int
    rate: float | None = Field(description="share of the previous step (null for the first, or after a zero)")


class Group(BaseModel):
    key: str | None = Field(description="the code (agency id, region id, ISO date of the week's Monday...); "
                                        "null: not known")
    label: str
    conversations: int = 0
    eligibility_checks: int = 0
    bookings: int = 0
    attended: int = 0
    no_show: int = 0
    cancelled: int = 0


class Progress(BaseModel):
    target: int
    accompanied: int = Field(description="people who attended at least one appointment booked through the assistant")
    share: float
    since: date
    label: str
    note: str


class StatsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "from_date": "2026-10-19", "to_date": "2027-01-08", "timezone": "Africa/Casablanca", "lang": "fr",
        "funnel": [{"step": "conversations", "label": "Conversations", "count": 1200, "rate": None},
                   {"step": "eligibility_checks", "label": "Tests d'éligibilité", "count": 540, "rate": 0.45},
                   {"step": "bookings", "label": "Rendez-vous pris", "count": 230, "rate": 0.426},
                   {"step": "attended", "label": "Présents", "count": 150, "rate": 0.652}],
        "by": {"channel": [{"key": "whatsapp", "label": "WhatsApp", "conversations": 900, "eligibility_checks": 400,
                            "bookings": 170, "attended": 110, "no_show": 20, "cancelled": 15}]},
        "progress": {"target": 100000, "accompanied": 150, "share": 0.0015, "since": "2023-02-06",
                     "label": "Personnes accompagnées", "note": "…"},
        "generated_at": "2027-01-08T09:00:00Z"}]})

    from_date: date
    to_date: date
    timezone: str
    lang: str
    funnel: list[FunnelStep]
    by: dict[Dimension, list[Group]]
    progress: Progress
    generated_at: datetime


class CapacityWeek(BaseModel):
    week_start: date = Field(description="the Monday of the week (the first week counts from now)")
    available: int = Field(description="adviser seat-slots from opening hours, minus public holidays")
    booked: int
    free: int
    rate: float | None = Field(description="booked / available; null when the agency does not receive that week")


class CapacityAgency(BaseModel):
    agency_id: str
    agency_name: str
    region: str
    region_id: str | None
    advisers: int
    hours_verified: bool
    available: int
    booked: int
    rate: float | None
    weeks: list[CapacityWeek]


class CapacityOut(BaseModel):
    from_date: date
    weeks: int
    timezone: str
    totals: list[CapacityWeek]
    agencies: list[CapacityAgency]
