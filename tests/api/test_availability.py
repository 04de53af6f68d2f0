"""Free slots: opening hours with a lunch break, the Friday/weekend boundary, Moroccan public
holidays (fixed and Islamic, from the `holidays` package), the minimum notice, the horizon,
adviser seats, Africa/Casablanca time (UTC+0 during Ramadan). "Now" is fixed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from app.models import Agency, Appointment, Citizen, Handoff, IdempotencyRecord, OutboxMessage, StaffSession, StaffUser
from app.models.appointment import SeatHold
from app.services.availability import current_time, list_slots
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

CASA = ZoneInfo("Africa/Casablanca")
WEEKDAY = [["08:30", "12:30"], ["14:00", "16:30"]]
# Friday: a longer break for the midday prayer; closed at the weekend (no "sat"/"sun" keys).
FRIDAY = [["08:30", "11:30"], ["15:00", "16:30"]]
HOURS = {"mon": WEEKDAY, "tue": WEEKDAY, "wed": WEEKDAY, "thu": WEEKDAY, "fri": FRIDAY}
FRIDAY_10H = datetime(2027, 1, 8, 10, 0, tzinfo=CASA)  # Monday 11 January 2027 is a public holiday
SLOTS = "/api/v1/agencies/t-avail/slots"


def local(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=CASA)


@pytest.fixture
def agency(session_factory: sessionmaker[Session]) -> Iterator[Agency]:
    with session_factory() as session:
        row = Agency(id="t-avail", name="Agence test", region="Tanger-Tétouan-Al Hoceïma", province="Tanger-Assilah",
                     city="Tanger", opening_hours=HOURS, advisers=2, slot_minutes=30, active=True)
        session.add(row)
        session.commit()
    yield row
    with session_factory() as session:
        for model in (OutboxMessage, IdempotencyRecord, Handoff, StaffSession, SeatHold, Appointment, Citizen,
                      StaffUser):
            session.execute(delete(model))
        session.execute(delete(Agency).where(Agency.id == "t-avail"))
        session.commit()


def at(client: TestClient, now: datetime) -> TestClient:
    client.app.dependency_overrides[current_time] = lambda: now.astimezone(UTC)  # type: ignore[attr-defined]
    return client


def times(body: dict, day: str) -> list[str]:
    return [slot["time"] for slot in body["slots"] if slot["date"] == day]


def occupy(session: Session, *, starts: datetime, minutes: int, seat: int, agency_id: str = "t-avail") -> None:
    """An active appointment holding `seat` from `starts` for `minutes` (30-minute grid)."""
    row = Appointment(reference=f"T{seat}{starts:%d%H%M}", agency_id=agency_id, service_id="information_orientation",
                      starts_at=starts.astimezone(UTC), ends_at=(starts + timedelta(minutes=minutes)).astimezone(UTC),
                      seat=seat, status="booked")
    session.add(row)
    session.flush()
    cells = [(starts + timedelta(minutes=30 * k)).astimezone(UTC) for k in range(-(-minutes // 30))]
    session.add_all(SeatHold(agency_id=agency_id, slot_at=cell, seat=seat, appointment_id=row.id) for cell in cells)
    session.commit()


def test_friday_weekend_and_public_holiday(client: TestClient, agency: Agency) -> None:
    body = at(client, FRIDAY_10H).get(SLOTS, params={"service": "information_orientation", "from": "2027-01-08",
                                                     "days": 5}).json()
    # Friday 10:00 + 2 h notice: the morning is over, the afternoon opens after the prayer break.
    assert times(body, "2027-01-08") == ["15:00", "15:30", "16:00"]
    closed = {c["date"]: c for c in body["closed"]}
    assert closed["2027-01-09"]["reason"] == closed["2027-01-10"]["reason"] == "closed"
    assert closed["2027-01-11"]["reason"] == "public_holiday"
    assert "indépendance" in closed["2027-01-11"]["holiday"]["fr"].lower()
    assert any("\u0600" <= ch <= "\u06ff" for ch in closed["2027-01-11"]["holiday"]["ar"])
    assert not times(body, "2027-01-09") and not times(body, "2027-01-11")
    tuesday = times(body, "2027-01-12")
    assert tuesday == ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00",
                       "14:00", "14:30", "15:00", "15:30", "16:00"]
    first = next(s for s in body["slots"] if s["date"] == "2027-01-12")
    assert first["starts_at"] == "2027-01-12T08:30:00+01:00" and first["free_seats"] == 2
    assert body["from"] == "2027-01-08" and body["to"] == "2027-01-12" and body["timezone"] == "Africa/Casablanca"


def test_islamic_holiday_and_ramadan_time(client: TestClient, agency: Agency) -> None:
    """Eid al-Fitr 2027 comes from holidays.Morocco; Morocco keeps UTC+0 during Ramadan."""
    eid = sorted(d for d, name in holidays.Morocco(years=2027, language="en_US").items() if "Eid al-Fitr" in name)
    assert eid  # the package knows the Islamic holidays
    now = datetime(2027, 3, 5, 10, 0, tzinfo=CASA)
    body = at(client, now).get(SLOTS, params={"service": "information_orientation", "from": "2027-03-08",
                                              "days": 4}).json()
    holiday_days = {c["date"] for c in body["closed"] if c["reason"] == "public_holiday"}
    assert holiday_days == {d.isoformat() for d in eid}
    open_days = {s["date"] for s in body["slots"]}
    assert not open_days & holiday_days and open_days
    monday = next(s for s in body["slots"] if s["date"] == "2027-03-08")
    assert monday["starts_at"] == "2027-03-08T08:30:00+00:00"


def test_service_duration_fits_the_intervals(session: Session, agency: Agency) -> None:
    now = FRIDAY_10H.astimezone(UTC)
    day = date(2027, 1, 12)

    def starts(service: str) -> list[str]:
        out = list_slots(session=session, agency_id="t-avail", service_id=service, start=day, days=1, now=now)
        return [s.time for s in out.slots]

    # 60 minutes: the last morning start is 11:30 (ends 12:30), nothing straddles the lunch break.
    assert starts("business_plan") == ["08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
                                       "14:00", "14:30", "15:00", "15:30"]
    # 45 minutes: 11:30 ends 12:15, 12:00 would end 12:45 after closing.
    assert starts("idea_maturation")[6:9] == ["11:30", "14:00", "14:30"]


def test_minimum_notice_on_the_same_day(session: Session, agency: Agency) -> None:
    now = datetime(2027, 1, 12, 9, 10, tzinfo=CASA).astimezone(UTC)
    out = list_slots(session=session, agency_id="t-avail", service_id="information_orientation", start=None, days=1,
                     now=now)
    assert out.from_date == date(2027, 1, 12)
    assert [s.time for s in out.slots][:2] == ["11:30", "12:00"]


def test_seats_taken_by_appointments(session: Session, agency: Agency) -> None:
    day = date(2027, 1, 12)
    occupy(session, starts=local(day, "09:00"), minutes=30, seat=1)
    occupy(session, starts=local(day, "09:00"), minutes=30, seat=2)
    occupy(session, starts=local(day, "10:00"), minutes=60, seat=1)  # holds 10:00 and 10:30
    out = list_slots(session=session, agency_id="t-avail", service_id="information_orientation", start=day, days=1,
                     now=FRIDAY_10H.astimezone(UTC))
    seats = {s.time: s.free_seats for s in out.slots}
    assert "09:00" not in seats
    assert seats["08:30"] == 2 and seats["09:30"] == 2 and seats["10:00"] == 1 and seats["10:30"] == 1
    hour = list_slots(session=session, agency_id="t-avail", service_id="business_plan", start=day, days=1,
                      now=FRIDAY_10H.astimezone(UTC))
    hour_seats = {s.time: s.free_seats for s in hour.slots}
    # A 60-minute meeting at 08:30 or 09:00 would need the full 09:00 slot.
    assert "08:30" not in hour_seats and "09:00" not in hour_seats
    assert hour_seats["09:30"] == 1 and hour_seats["11:00"] == 2


def test_cancelled_appointments_free_their_seat(session: Session, agency: Agency) -> None:
    day = date(2027, 1, 12)
    occupy(session, starts=local(day, "09:00"), minutes=30, seat=1)
    occupy(session, starts=local(day, "09:00"), minutes=30, seat=2)
    session.execute(delete(SeatHold).where(SeatHold.seat == 2))  # what cancelling does
    session.commit()
    out = list_slots(session=session, agency_id="t-avail", service_id="information_orientation", start=day, days=1,
                     now=FRIDAY_10H.astimezone(UTC))
    assert {s.time: s.free_seats for s in out.slots}["09:00"] == 1


def test_the_horizon_cuts_the_range(client: TestClient, agency: Agency) -> None:
    today = FRIDAY_10H.date()
    start = today + timedelta(days=58)
    body = at(client, FRIDAY_10H).get(SLOTS, params={"service": "information_orientation", "from": start.isoformat(),
                                                     "days": 7}).json()
    assert body["to"] == (today + timedelta(days=60)).isoformat()
    assert max(s["date"] for s in body["slots"]) <= body["to"]


@pytest.mark.parametrize(("params", "reason"), [
    ({"service": "information_orientation", "days": 0}, "days"),
    ({"service": "information_orientation", "days": 32}, "days"),
    ({"service": "information_orientation", "from": "2027-01-07"}, "past"),
    ({"service": "information_orientation", "from": "2027-03-20"}, "within 60 days"),
    ({"service": "information_orientation", "from": "2027-13-01"}, "date"),
    ({}, "service"),
])
def test_bad_ranges_are_422_with_a_reason(client: TestClient, agency: Agency, params: dict, reason: str) -> None:
    response = at(client, FRIDAY_10H).get(SLOTS, params=params)
    assert response.status_code == 422
    assert reason in response.text


def test_unknown_agency_or_service_is_404(client: TestClient, agency: Agency) -> None:
    client = at(client, FRIDAY_10H)
    unknown = client.get("/api/v1/agencies/nowhere/slots", params={"service": "information_orientation"})
    assert unknown.status_code == 404
    response = client.get(SLOTS, params={"service": "astrology"})
    assert response.status_code == 404 and "astrology" in response.text


def test_an_inactive_agency_offers_no_slot(client: TestClient, agency: Agency, session: Session) -> None:
    row = session.get(Agency, "t-avail")
    assert row is not None
    row.active = False
    session.commit()
    response = at(client, FRIDAY_10H).get(SLOTS, params={"service": "information_orientation"})
    assert response.status_code == 404
