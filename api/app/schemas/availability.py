"""Free appointment slots of an agency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

# Local wall-clock time with its offset, "+00:00" rather than "Z" during Ramadan (UTC+0): people
# and the bot read these as Casablanca times.
LocalDateTime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class SlotOut(BaseModel):
    starts_at: LocalDateTime = Field(description="local time with its UTC offset")
    ends_at: LocalDateTime
    date: date
    time: str = Field(description="HH:MM, local time")
    free_seats: int

    @classmethod
    def of(cls, starts_at: datetime, ends_at: datetime, free_seats: int, zone: ZoneInfo) -> SlotOut:
        local = starts_at.astimezone(zone)
        return cls(starts_at=local, ends_at=ends_at.astimezone(zone), date=local.date(),
                   time=local.strftime("%H:%M"), free_seats=free_seats)


class ClosedDay(BaseModel):
    date: date
    reason: Literal["public_holiday", "closed"]
    holiday: dict[str, str] | None = Field(None, description="the holiday's name in fr and ar")


class SlotsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "agency_id": "tanger-1", "service": "information_orientation", "duration_minutes": 30,
        "timezone": "Africa/Casablanca", "from": "2027-01-08", "to": "2027-01-12",
        "slots": [{"starts_at": "2027-01-08T14:30:00+01:00", "ends_at": "2027-01-08T15:00:00+01:00",
                   "date": "2027-01-08", "time": "14:30", "free_seats": 2}],
        "closed": [{"date": "2027-01-09", "reason": "closed", "holiday": None},
                   {"date": "2027-01-11", "reason": "public_holiday",
                    "holiday": {"fr": "Manifeste de l'indépendance", "ar": "ذكرى تقديم وثيقة الاستقلال"}}]}]})

    agency_id: str
    service: str
    duration_minutes: int
    timezone: str
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    slots: list[SlotOut]
    closed: list[ClosedDay]
