"""Free appointment slots of an agency: opening hours (a lunch break is the gap between two
intervals), Moroccan public holidays (the `holidays` package, Islamic holidays included), the
service's duration, adviser seats minus active appointments, a minimum notice and the booking
horizon. Local times are Africa/Casablanca; everything stored is UTC."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.models import Agency, Service
from app.models.appointment import SeatHold
from app.schemas.availability import ClosedDay, SlotOut, SlotsOut

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Nobody can be received at a minute's notice: the agency needs time to see the booking.
MIN_NOTICE = timedelta(hours=2)
DEFAULT_DAYS = 7
MAX_DAYS = 31


def current_time() -> datetime:
    """The clock, as a dependency so that tests can fix "now"."""
    return datetime.now(UTC)


@lru_cache
def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def as_utc(value: datetime) -> datetime:
    """UTC-aware; a naive input (typed by a person, sent by the bot) is Casablanca time."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=local_zone()).astimezone(UTC)


def stored_utc(value: datetime) -> datetime:
    """A datetime read from the database (SQLite drops the offset; values are stored in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=64)
def _calendar(year: int, language: str) -> holidays.HolidayBase:
    return holidays.Morocco(years=year, language=language)


def public_holiday(day: date) -> dict[str, str] | None:
    """The holiday's names in French and Arabic, or None on a working day."""
    if day not in _calendar(day.year, "fr"):
        return None
    return {lang: str(_calendar(day.year, lang).get(day)) for lang in ("fr", "ar")}


@dataclass(frozen=True)
class Candidate:
    """A start time that fits the opening hours, and the grid slots it occupies (all UTC)."""

    starts_at: datetime
    ends_at: datetime
    cells: tuple[datetime, ...]


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def day_candidates(agency: Agency, *, day: date, duration_minutes: int) -> list[Candidate]:
    """Every start that fits an opening interval of `day`, on the agency's slot grid."""
    if agency.slot_minutes <= 0 or duration_minutes <= 0:
        return []
    step = timedelta(minutes=agency.slot_minutes)
    duration = timedelta(minutes=duration_minutes)
    span = math.ceil(duration_minutes / agency.slot_minutes)
    zone = local_zone()
    found: list[Candidate] = []
    for opens, closes in (agency.opening_hours or {}).get(WEEKDAYS[day.weekday()], []):
        start = datetime.combine(day, _clock(opens), zone)
        end = datetime.combine(day, _clock(closes), zone)
        while start + duration <= end:
            cells = tuple((start + k * step).astimezone(UTC) for k in range(span))
            found.append(Candidate(start.astimezone(UTC), (start + duration).astimezone(UTC), cells))
            start += step
    return found


def held_seats(session: Session, *, agency_id: str, first: datetime, last: datetime) -> dict[datetime, dict[int, int]]:
    """{slot (UTC): {seat: appointment id}} for the agency's slots in [first, last]."""
    rows = session.execute(
        select(SeatHold.slot_at, SeatHold.seat, SeatHold.appointment_id).where(
            SeatHold.agency_id == agency_id, SeatHold.slot_at >= first, SeatHold.slot_at <= last
        )
    )
    held: dict[datetime, dict[int, int]] = {}
    for slot_at, seat, appointment_id in rows:
        held.setdefault(stored_utc(slot_at), {})[seat] = appointment_id
    return held


def free_seats(candidate: Candidate, *, advisers: int, held: dict[datetime, dict[int, int]],
               ignore: int | None = None) -> list[int]:
    """Seats free in every slot the candidate occupies (`ignore`: an appointment being moved)."""
    def taken(seat: int) -> bool:
        return any(held.get(cell, {}).get(seat) not in (None, ignore) for cell in candidate.cells)

    return [seat for seat in range(1, advisers + 1) if not taken(seat)]


def bookable_agency(session: Session, agency_id: str) -> Agency | None:
    agency = session.get(Agency, agency_id)
    return agency if agency is not None and agency.active else None


def check_slot(agency: Agency, service: Service, *, starts_at: datetime, now: datetime) -> Candidate:
    """The candidate for a requested start, or 409 with the reason it is not a bookable slot."""
    starts_at = as_utc(starts_at)
    local = starts_at.astimezone(local_zone())
    today = now.astimezone(local_zone()).date()

    def refuse(reason: str) -> HTTPException:
        return HTTPException(status.HTTP_409_CONFLICT, f"not a bookable slot: {reason}")

    if starts_at < now + MIN_NOTICE:
        raise refuse(f"appointments are booked at least {int(MIN_NOTICE.total_seconds() // 3600)} hours ahead")
    if local.date() > today + timedelta(days=get_settings().booking_horizon_days):
        raise refuse(f"appointments are booked at most {get_settings().booking_horizon_days} days ahead")
    holiday = public_holiday(local.date())
    if holiday:
        raise refuse(f"{local.date().isoformat()} is a public holiday ({holiday['fr']})")
    for candidate in day_candidates(agency, day=local.date(), duration_minutes=service.duration_minutes):
        if candidate.starts_at == starts_at:
            return candidate
    raise refuse(f"the agency does not receive for this service at {local.strftime('%Y-%m-%d %H:%M')} (local time)")


def list_slots(*, session: Session, agency_id: str, service_id: str, start: date | None, days: int | None,
               now: datetime) -> SlotsOut:
    agency = bookable_agency(session, agency_id)
    if agency is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown agency: {agency_id}")
    service = session.get(Service, service_id)
    if service is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown service: {service_id}")
    now = as_utc(now)
    horizon = get_settings().booking_horizon_days
    today = now.astimezone(local_zone()).date()
    start = start or today
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"days must be between 1 and {MAX_DAYS}")
    if start < today:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "from must not be in the past")
    if start > today + timedelta(days=horizon):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"from must be within {horizon} days")
    end = min(start + timedelta(days=days - 1), today + timedelta(days=horizon))

    closed: list[ClosedDay] = []
    per_day: list[list[Candidate]] = []
    day = start
    while day <= end:
        holiday = public_holiday(day)
        candidates = day_candidates(agency, day=day, duration_minutes=service.duration_minutes)
        if holiday:
            closed.append(ClosedDay(date=day, reason="public_holiday", holiday=holiday))
        elif not candidates:
            closed.append(ClosedDay(date=day, reason="closed", holiday=None))
        else:
            per_day.append([c for c in candidates if c.starts_at >= now + MIN_NOTICE])
        day += timedelta(days=1)

    everything = [c for day_list in per_day for c in day_list]
    held = held_seats(session, agency_id=agency.id, first=everything[0].starts_at,
                      last=everything[-1].cells[-1]) if everything else {}
    slots = []
    for candidate in everything:
        seats = free_seats(candidate, advisers=agency.advisers, held=held)
        if seats:
            slots.append(SlotOut.of(candidate.starts_at, candidate.ends_at, len(seats), local_zone()))
    return SlotsOut(agency_id=agency.id, service=service.id, duration_minutes=service.duration_minutes,
                    timezone=local_zone().key, from_date=start, to_date=end, slots=slots, closed=closed)
