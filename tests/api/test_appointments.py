"""Booking, reading, cancelling and moving appointments; idempotency; staff scoping; and the
proof that concurrent requests never overbook a slot (real uvicorn with 4 workers on
PostgreSQL, threads against the app on SQLite)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from app.core.config import get_settings
from app.models import Agency, Appointment, Citizen, Handoff, IdempotencyRecord, OutboxMessage, StaffSession, StaffUser
from app.models.appointment import ACTIVE_STATUSES, SeatHold
from app.schemas.appointments import AppointmentCreate
from app.services import appointments as appointments_service
from app.services.auth import create_staff
from app.services.availability import current_time, list_slots
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

CASA = ZoneInfo("Africa/Casablanca")
WEEKDAY = [["08:30", "12:30"], ["14:00", "16:30"]]
FRIDAY = [["08:30", "11:30"], ["15:00", "16:30"]]
HOURS = {"mon": WEEKDAY, "tue": WEEKDAY, "wed": WEEKDAY, "thu": WEEKDAY, "fri": FRIDAY}
EVERY_DAY = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
NOW = datetime(2027, 1, 8, 10, 0, tzinfo=CASA)  # a Friday; Monday 11 January is a public holiday
TUESDAY_9H = "2027-01-12T09:00:00+01:00"
API_DIR = Path(__file__).resolve().parents[2] / "api"
URL = "/api/v1/appointments"
AGENCIES = ("t-book-a", "t-book-b", "t-book-solo", "t-book-rush")


@pytest.fixture
def agencies(session_factory: sessionmaker[Session]) -> Iterator[None]:
    with session_factory() as session:
        for agency_id, advisers, hours in (("t-book-a", 2, HOURS), ("t-book-b", 2, HOURS), ("t-book-solo", 1, HOURS),
                                           ("t-book-rush", 3, EVERY_DAY)):
            session.add(Agency(id=agency_id, name=f"Agence {agency_id}", region="Casablanca-Settat",
                               province="Casablanca", city="Casablanca", opening_hours=hours, advisers=advisers,
                               slot_minutes=30, active=True))
        session.commit()
    yield
    with session_factory() as session:
        for model in (OutboxMessage, IdempotencyRecord, Handoff, StaffSession, SeatHold, Appointment, Citizen,
                      StaffUser):
            session.execute(delete(model))
        session.execute(delete(Agency).where(Agency.id.in_(AGENCIES)))
        session.commit()


@pytest.fixture
def api(client: TestClient, agencies: None) -> TestClient:
    client.app.dependency_overrides[current_time] = lambda: NOW.astimezone(UTC)  # type: ignore[attr-defined]
    return client


def booking(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"full_name": "Salma Benali", "phone": "0612345678", "agency_id": "t-book-a",
                            "service": "information_orientation", "starts_at": TUESDAY_9H, "language": "fr",
                            "channel": "whatsapp"}
    body.update(overrides)
    return body


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return client.post(URL, json=body, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex})


def move(client: TestClient, headers: dict[str, str], reference: str, starts_at: str) -> httpx.Response:
    return client.post(f"{URL}/{reference}/reschedule", json={"starts_at": starts_at}, headers=headers)


def active_rows(session: Session, agency_id: str) -> list[Appointment]:
    session.expire_all()
    return list(session.scalars(select(Appointment).where(Appointment.agency_id == agency_id,
                                                          Appointment.status.in_(ACTIVE_STATUSES))))


# --- booking ---------------------------------------------------------------------------------

def test_a_reference_has_a_letter_and_a_digit_and_reads_easily() -> None:
    for _ in range(2000):
        reference = appointments_service.new_reference()
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", reference), reference
        assert any(c.isdigit() for c in reference) and any(c.isalpha() for c in reference), reference


@pytest.mark.parametrize(("language", "agency_name"), [
    ("fr", "Agence t-book-a"), ("ary_latn", "Agence t-book-a"), ("ary", "وكالة الاختبار"), ("ar", "وكالة الاختبار")])
def test_an_appointment_names_its_agency_in_its_language(
        api: TestClient, service_headers: dict[str, str], session: Session, language: str, agency_name: str) -> None:
    session.get(Agency, "t-book-a").name_ar = "وكالة الاختبار"  # type: ignore[union-attr]
    session.commit()
    response = post(api, service_headers, booking(language=language))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["agency_name"] == agency_name
    found = api.get(URL, params={"phone": "0612345678"}, headers=service_headers).json()
    assert [a["agency_name"] for a in found] == [agency_name]


def test_the_names_come_in_the_language_asked(api: TestClient, service_headers: dict[str, str],
                                             session: Session) -> None:
    """Booked in Darija, read in French: the list, one appointment and a move name the agency and
    the service in the reader's language; a language we do not speak is refused with a reason."""
    session.get(Agency, "t-book-a").name_ar = "وكالة الاختبار"  # type: ignore[union-attr]
    session.commit()
    booked = post(api, service_headers, booking(language="ary"))
    assert booked.status_code == 201, booked.text
    reference = booked.json()["reference"]
    assert booked.json()["agency_name"] == "وكالة الاختبار"
    for lang, agency_name, service_name in (("fr", "Agence t-book-a", "Information et orientation"),
                                            ("ar", "وكالة الاختبار", "الإعلام والتوجيه")):
        found = api.get(URL, params={"phone": "0612345678", "lang": lang}, headers=service_headers).json()
        assert [(a["agency_name"], a["service_name"]) for a in found] == [(agency_name, service_name)]
        one = api.get(f"{URL}/{reference}", params={"lang": lang}, headers=service_headers).json()
        assert (one["agency_name"], one["service_name"]) == (agency_name, service_name)
    moved = api.post(f"{URL}/{reference}/reschedule", params={"lang": "fr"}, headers=service_headers,
                     json={"starts_at": "2027-01-12T10:00:00+01:00", "phone": "0612345678"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["agency_name"] == "Agence t-book-a" and moved.json()["language"] == "ary"
    refused = api.get(URL, params={"phone": "0612345678", "lang": "en"}, headers=service_headers)
    assert refused.status_code == 422 and "lang must be one of" in refused.text


def test_a_booking_returns_a_short_reference_and_records_the_person(
        api: TestClient, service_headers: dict[str, str], session: Session) -> None:
    response = post(api, service_headers, booking(program="forsa", segment="project_holder", notes="couture",
                                                  whatsapp_opt_in=True))
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", body["reference"])
    assert body["status"] == "booked" and body["phone"] == "+212612345678"
    assert body["starts_at"] == TUESDAY_9H and body["ends_at"] == "2027-01-12T09:30:00+01:00"
    assert body["date"] == "2027-01-12" and body["time"] == "09:00" and body["free_of_charge"] is True
    assert body["service_name"] == "Information et orientation" and body["program"] == "forsa"
    citizen = session.scalar(select(Citizen).where(Citizen.phone == "+212612345678"))
    assert citizen is not None and citizen.full_name == "Salma Benali" and citizen.whatsapp_opt_in_at is not None
    [row] = active_rows(session, "t-book-a")
    assert row.seat == 1 and row.citizen_id == citizen.id
    stored = row.starts_at if row.starts_at.tzinfo else row.starts_at.replace(tzinfo=UTC)
    assert stored == datetime(2027, 1, 12, 8, 0, tzinfo=UTC)  # stored in UTC


def test_a_returning_person_is_updated_not_duplicated(api: TestClient, service_headers: dict[str, str],
                                                       session: Session) -> None:
    assert post(api, service_headers, booking()).status_code == 201
    second = booking(full_name="Salma B.", phone="+212 6 12 34 56 78", starts_at="2027-01-12T10:00:00+01:00",
                     language="ary_latn")
    assert post(api, service_headers, second).status_code == 201
    citizens = session.scalars(select(Citizen)).all()
    assert [(c.full_name, c.language) for c in citizens] == [("Salma B.", "ary_latn")]


@pytest.mark.parametrize("raw", ["0612345678", "06 12 34 56 78", "06.12.34.56.78", "+212612345678", "00212612345678",
                                 "+212 (0)6 12 34 56 78", "212612345678", "٠٦١٢٣٤٥٦٧٨", "whatsapp:+212612345678"])
def test_moroccan_numbers_are_normalised_to_e164(api: TestClient, service_headers: dict[str, str], raw: str) -> None:
    response = post(api, service_headers, booking(phone=raw))
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+212612345678"


@pytest.mark.parametrize(("raw", "reason"), [
    ("0522123456", "mobile"), ("+33612345678", "Moroccan numbers"), ("061234567", "10 digits"),
    ("06123456789", "10 digits"), ("612345678", "06XXXXXXXX"), ("06-abc", "only digits"),
])
def test_other_numbers_are_refused_with_a_reason(api: TestClient, service_headers: dict[str, str], raw: str,
                                                 reason: str) -> None:
    response = post(api, service_headers, booking(phone=raw))
    assert response.status_code == 422
    assert reason in response.text


def test_a_time_without_offset_is_casablanca_time(api: TestClient, service_headers: dict[str, str]) -> None:
    response = post(api, service_headers, booking(starts_at="2027-01-12T09:00:00"))
    assert response.status_code == 201 and response.json()["starts_at"] == TUESDAY_9H


@pytest.mark.parametrize(("change", "reason"), [
    ({"agency_id": "atlantis"}, "unknown agency"), ({"service": "astrology"}, "unknown service"),
    ({"channel": "sms"}, "channel"), ({"language": "en"}, "language"), ({"full_name": "  "}, "full_name"),
    ({"full_name": "123"}, "letters"), ({"program": "lottery"}, "program"), ({"starts_at": "tomorrow"}, "starts_at"),
    ({"colour": "blue"}, "colour"), ({"segment": "Project Holder!"}, "segment"),
])
def test_bad_input_is_422(api: TestClient, service_headers: dict[str, str], change: dict[str, Any],
                          reason: str) -> None:
    response = post(api, service_headers, booking(**change))
    assert response.status_code == 422
    assert reason in response.text


def test_the_service_token_and_the_idempotency_key_are_required(api: TestClient,
                                                                service_headers: dict[str, str]) -> None:
    assert api.post(URL, json=booking(), headers={"Idempotency-Key": uuid.uuid4().hex}).status_code == 401
    bad = {"Authorization": "Bearer nope", "Idempotency-Key": uuid.uuid4().hex}
    assert api.post(URL, json=booking(), headers=bad).status_code == 401
    missing = api.post(URL, json=booking(), headers=service_headers)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.text


@pytest.mark.parametrize(("starts_at", "reason"), [
    ("2027-01-12T09:10:00+01:00", "does not receive"),    # off the 30-minute grid
    ("2027-01-12T13:00:00+01:00", "does not receive"),    # lunch break
    ("2027-01-12T16:30:00+01:00", "does not receive"),    # closing time
    ("2027-01-09T09:00:00+01:00", "does not receive"),    # Saturday
    ("2027-01-11T09:00:00+01:00", "public holiday"),      # Manifeste de l'indépendance
    ("2027-01-08T11:00:00+01:00", "hours ahead"),         # within the 2-hour notice
    ("2027-01-07T09:00:00+01:00", "hours ahead"),         # in the past
    ("2027-03-12T09:00:00+00:00", "days ahead"),          # beyond the 60-day horizon
])
def test_a_time_that_is_not_a_real_slot_is_409(api: TestClient, service_headers: dict[str, str], starts_at: str,
                                               reason: str, session: Session) -> None:
    response = post(api, service_headers, booking(starts_at=starts_at))
    assert response.status_code == 409
    assert reason in response.json()["detail"]
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_full_slot_is_409_and_the_advisers_bound_the_bookings(api: TestClient, service_headers: dict[str, str],
                                                                session: Session) -> None:
    for phone in ("0611111111", "0622222222"):
        assert post(api, service_headers, booking(phone=phone)).status_code == 201
    third = post(api, service_headers, booking(phone="0633333333"))
    assert third.status_code == 409 and "full" in third.json()["detail"]
    assert sorted(row.seat for row in active_rows(session, "t-book-a")) == [1, 2]
    # The slot is gone from the offer too.
    slots = api.get("/api/v1/agencies/t-book-a/slots", params={"service": "information_orientation",
                                                               "from": "2027-01-12", "days": 1}).json()["slots"]
    assert "09:00" not in [s["time"] for s in slots]


def test_a_long_appointment_holds_the_following_slot(api: TestClient, service_headers: dict[str, str]) -> None:
    hour = booking(agency_id="t-book-solo", service="business_plan")
    assert post(api, service_headers, hour).status_code == 201
    overlapping = booking(agency_id="t-book-solo", phone="0622222222", starts_at="2027-01-12T09:30:00+01:00")
    assert post(api, service_headers, overlapping).status_code == 409
    after = booking(agency_id="t-book-solo", phone="0622222222", starts_at="2027-01-12T10:00:00+01:00")
    assert post(api, service_headers, after).status_code == 201


def test_a_person_cannot_be_in_two_places_at_once(api: TestClient, service_headers: dict[str, str]) -> None:
    assert post(api, service_headers, booking(service="business_plan")).status_code == 201  # 09:00-10:00
    elsewhere = booking(agency_id="t-book-b", starts_at="2027-01-12T09:30:00+01:00")
    response = post(api, service_headers, elsewhere)
    assert response.status_code == 409 and "already has an appointment" in response.json()["detail"]
    later = booking(agency_id="t-book-b", starts_at="2027-01-12T10:00:00+01:00")
    assert post(api, service_headers, later).status_code == 201


# --- idempotency ----------------------------------------------------------------------------

def test_the_same_key_and_body_replays_the_first_answer(api: TestClient, service_headers: dict[str, str],
                                                        session: Session) -> None:
    first = post(api, service_headers, booking(), key="booking-key-1")
    again = post(api, service_headers, booking(), key="booking-key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(active_rows(session, "t-book-a")) == 1
    # The same person written differently is the same request.
    same = post(api, service_headers, booking(phone="+212612345678"), key="booking-key-1")
    assert same.status_code == 201 and same.json()["reference"] == first.json()["reference"]


def test_the_same_key_with_another_body_is_422(api: TestClient, service_headers: dict[str, str],
                                               session: Session) -> None:
    assert post(api, service_headers, booking(), key="booking-key-2").status_code == 201
    other = post(api, service_headers, booking(starts_at="2027-01-12T10:00:00+01:00"), key="booking-key-2")
    assert other.status_code == 422 and "different request" in other.text
    assert len(active_rows(session, "t-book-a")) == 1


def test_a_key_replays_for_a_day_then_is_forgotten(api: TestClient, service_headers: dict[str, str],
                                                   session: Session) -> None:
    first = post(api, service_headers, booking(), key="booking-key-day")
    assert first.status_code == 201
    aged = post(api, service_headers, booking(starts_at="2027-01-12T10:00:00+01:00"), key="booking-key-aged")
    assert aged.status_code == 201
    # The second key's record is a day and a minute old: the next booking deletes it.
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "booking-key-aged")
                    .values(created_at=NOW.astimezone(UTC) - timedelta(hours=24, minutes=1)))
    session.commit()
    third = post(api, service_headers, booking(starts_at="2027-01-13T09:00:00+01:00"), key="booking-key-other")
    assert third.status_code == 201
    session.expire_all()
    assert session.get(IdempotencyRecord, "booking-key-aged") is None
    # A key within its day still replays.
    again = post(api, service_headers, booking(), key="booking-key-day")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_an_expired_key_not_yet_deleted_is_free_again(api: TestClient, service_headers: dict[str, str],
                                                      session: Session) -> None:
    first = post(api, service_headers, booking(), key="booking-key-reuse")
    assert first.status_code == 201
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "booking-key-reuse")
                    .values(created_at=NOW.astimezone(UTC) - timedelta(days=3)))
    session.commit()
    # As if the batch deletion had not reached it yet.
    appointments_service.FORGET_BATCH, batch = 0, appointments_service.FORGET_BATCH
    try:
        later = post(api, service_headers, booking(starts_at="2027-01-13T09:00:00+01:00"), key="booking-key-reuse")
    finally:
        appointments_service.FORGET_BATCH = batch
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.json()["reference"] != first.json()["reference"]


def test_a_booking_is_all_or_nothing(session_factory: sessionmaker[Session], agencies: None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(appointments_service, "to_out", broken)  # fails after the rows are flushed
    with session_factory() as session, pytest.raises(RuntimeError):
        appointments_service.book(session=session, payload=AppointmentCreate(**booking()),
                                  idempotency_key="all-or-nothing", now=NOW.astimezone(UTC))
    with session_factory() as session:
        for model in (Citizen, Appointment, SeatHold, IdempotencyRecord):
            assert session.scalar(select(func.count()).select_from(model)) == 0


# --- reading --------------------------------------------------------------------------------

def test_reading_by_phone_and_by_reference(api: TestClient, service_headers: dict[str, str]) -> None:
    ref = post(api, service_headers, booking()).json()["reference"]
    post(api, service_headers, booking(starts_at="2027-01-13T10:00:00+01:00"))
    mine = api.get(URL, params={"phone": "06 12 34 56 78"}, headers=service_headers)
    assert mine.status_code == 200 and [a["time"] for a in mine.json()] == ["09:00", "10:00"]
    assert api.get(URL, params={"phone": "0699999999"}, headers=service_headers).json() == []
    assert api.get(URL, params={"phone": "12"}, headers=service_headers).status_code == 422
    one = api.get(f"{URL}/{ref.lower()[:3]} {ref.lower()[3:]}", headers=service_headers)
    assert one.status_code == 200 and one.json()["reference"] == ref
    assert api.get(f"{URL}/ZZZZZZ", headers=service_headers).status_code == 404
    assert api.get(f"{URL}/{ref}").status_code == 401
    assert api.get(URL, params={"phone": "0612345678"}).status_code == 401


def test_upcoming_hides_cancelled_and_all_shows_them(api: TestClient, service_headers: dict[str, str]) -> None:
    ref = post(api, service_headers, booking()).json()["reference"]
    api.post(f"{URL}/{ref}/cancel", headers=service_headers)
    assert api.get(URL, params={"phone": "0612345678"}, headers=service_headers).json() == []
    everything = api.get(URL, params={"phone": "0612345678", "upcoming": "false"}, headers=service_headers).json()
    assert [a["status"] for a in everything] == ["cancelled"]


# --- cancelling and moving ------------------------------------------------------------------

def test_cancel_frees_the_seat_and_twice_is_409(api: TestClient, service_headers: dict[str, str],
                                                session: Session) -> None:
    refs = [post(api, service_headers, booking(phone=p)).json()["reference"] for p in ("0611111111", "0622222222")]
    cancelled = api.post(f"{URL}/{refs[0]}/cancel", headers=service_headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"{URL}/{refs[0]}/cancel", headers=service_headers)
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert post(api, service_headers, booking(phone="0633333333")).status_code == 201  # the seat came back
    assert len(active_rows(session, "t-book-a")) == 2


def test_cancel_with_another_phone_is_404(api: TestClient, service_headers: dict[str, str]) -> None:
    ref = post(api, service_headers, booking()).json()["reference"]
    assert api.post(f"{URL}/{ref}/cancel", json={"phone": "0699999999"}, headers=service_headers).status_code == 404
    assert api.post(f"{URL}/{ref}/cancel", json={"phone": "+212612345678"}, headers=service_headers).status_code == 200


def test_a_past_appointment_cannot_be_cancelled(api: TestClient, service_headers: dict[str, str]) -> None:
    ref = post(api, service_headers, booking()).json()["reference"]
    api.app.dependency_overrides[current_time] = lambda: datetime(2027, 1, 12, 9, 5, tzinfo=CASA)  # type: ignore[attr-defined]
    response = api.post(f"{URL}/{ref}/cancel", headers=service_headers)
    assert response.status_code == 409 and "passed" in response.json()["detail"]


def test_reschedule_keeps_the_reference_and_moves_the_seat(api: TestClient, service_headers: dict[str, str],
                                                           session: Session) -> None:
    ref = post(api, service_headers, booking(agency_id="t-book-solo")).json()["reference"]
    moved = move(api, service_headers, ref, "2027-01-13T14:00:00+01:00")
    assert moved.status_code == 200, moved.text
    assert moved.json()["reference"] == ref and moved.json()["starts_at"] == "2027-01-13T14:00:00+01:00"
    assert api.get(f"{URL}/{ref}", headers=service_headers).json()["time"] == "14:00"
    # The old time is free again; the old row stays as history.
    assert post(api, service_headers, booking(agency_id="t-book-solo", phone="0622222222")).status_code == 201
    history = session.scalars(select(Appointment).where(Appointment.status == "rescheduled")).all()
    assert len(history) == 1 and history[0].reference.startswith(f"{ref}.")


def test_reschedule_to_a_full_slot_leaves_the_appointment_where_it_was(
        api: TestClient, service_headers: dict[str, str], session: Session) -> None:
    ref = post(api, service_headers, booking(agency_id="t-book-solo")).json()["reference"]
    post(api, service_headers, booking(agency_id="t-book-solo", phone="0622222222",
                                       starts_at="2027-01-12T10:00:00+01:00"))
    response = api.post(f"{URL}/{ref}/reschedule", json={"starts_at": "2027-01-12T10:00:00+01:00"},
                        headers=service_headers)
    assert response.status_code == 409 and "not moved" in response.json()["detail"]
    kept = api.get(f"{URL}/{ref}", headers=service_headers).json()
    assert kept["status"] == "booked" and kept["time"] == "09:00"
    assert session.scalar(select(func.count()).select_from(SeatHold)) == 2
    not_a_slot = api.post(f"{URL}/{ref}/reschedule", json={"starts_at": "2027-01-11T10:00:00+01:00"},
                          headers=service_headers)
    assert not_a_slot.status_code == 409 and "public holiday" in not_a_slot.json()["detail"]


def test_a_longer_appointment_can_move_half_an_hour(api: TestClient, service_headers: dict[str, str]) -> None:
    """Moving 09:00-10:00 to 09:30-10:30 on one adviser reuses the seat it frees."""
    ref = post(api, service_headers, booking(agency_id="t-book-solo", service="business_plan")).json()["reference"]
    moved = move(api, service_headers, ref, "2027-01-12T09:30:00+01:00")
    assert moved.status_code == 200 and moved.json()["ends_at"] == "2027-01-12T10:30:00+01:00"


def test_a_cancelled_appointment_cannot_be_moved(api: TestClient, service_headers: dict[str, str]) -> None:
    ref = post(api, service_headers, booking()).json()["reference"]
    api.post(f"{URL}/{ref}/cancel", headers=service_headers)
    response = move(api, service_headers, ref, "2027-01-12T10:00:00+01:00")
    assert response.status_code == 409 and "cancelled" in response.json()["detail"]


# --- staff scoping on the read endpoints ----------------------------------------------------

def staff_headers(client: TestClient, session: Session, *, email: str, role: str,
                  agency_id: str | None) -> dict[str, str]:
    create_staff(session=session, email=email, full_name=email.split("@")[0], role=role, agency_id=agency_id,
                 password="correct horse battery")
    credentials = {"email": email, "password": "correct horse battery"}
    token = client.post("/api/v1/auth/login", json=credentials).json()["token"]
    client.cookies.clear()  # each check below uses only the header it passes
    return {"Authorization": f"Bearer {token}"}


def test_staff_see_only_their_agency(api: TestClient, service_headers: dict[str, str], session: Session) -> None:
    in_a = post(api, service_headers, booking()).json()["reference"]
    in_b = post(api, service_headers, booking(agency_id="t-book-b",
                                              starts_at="2027-01-13T09:00:00+01:00")).json()["reference"]
    agent_a = staff_headers(api, session, email="a@anapec.test", role="staff", agency_id="t-book-a")
    admin = staff_headers(api, session, email="admin@anapec.test", role="admin", agency_id=None)

    assert api.get(f"{URL}/{in_a}", headers=agent_a).status_code == 200
    assert api.get(f"{URL}/{in_b}", headers=agent_a).status_code == 404  # indistinguishable from unknown
    assert [a["reference"] for a in api.get(URL, params={"phone": "0612345678"}, headers=agent_a).json()] == [in_a]
    assert api.post(f"{URL}/{in_b}/cancel", headers=agent_a).status_code == 404
    assert api.get(f"{URL}/{in_b}", headers=admin).status_code == 200
    assert len(api.get(URL, params={"phone": "0612345678"}, headers=admin).json()) == 2


# --- concurrency: never more bookings than advisers -----------------------------------------

CONCURRENT_REQUESTS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rush(slot: str) -> list[tuple[dict[str, Any], str]]:
    """Distinct people and keys, all for the same slot."""
    return [(booking(agency_id="t-book-rush", starts_at=slot, full_name=f"Personne {i}", phone=f"0670{i:06d}"),
             f"rush-{i}-{uuid.uuid4().hex}") for i in range(CONCURRENT_REQUESTS)]


def _fire_at_uvicorn(database_url: str, requests: list[tuple[dict[str, Any], str]]) -> list[httpx.Response]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test",
           "SERVICE_TOKEN": get_settings().service_token}
    # A file, not a pipe: a chatty server must never block on its own log.
    with tempfile.TemporaryFile() as log:
        return _serve_and_fire(log, port, env, requests)


def _serve_and_fire(log: IO[bytes], port: int, env: dict[str, str],
                    requests: list[tuple[dict[str, Any], str]]) -> list[httpx.Response]:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "4", "--log-level", "warning"],
        cwd=API_DIR, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # four workers import slowly on a busy machine
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"uvicorn did not start: {log.read().decode(errors='replace')}")
            time.sleep(0.2)
        # Give all four workers time to finish importing, so the burst really is parallel.
        time.sleep(1.0)

        async def burst() -> list[httpx.Response]:
            headers = {"Authorization": f"Bearer {get_settings().service_token}"}
            limits = httpx.Limits(max_connections=len(requests))
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as http:
                return list(await asyncio.gather(*(
                    http.post(URL, json=body, headers={"Idempotency-Key": key}) for body, key in requests)))

        return asyncio.run(burst())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _fire_threads(client: TestClient, requests: list[tuple[dict[str, Any], str]]) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {get_settings().service_token}"}
    start = threading.Barrier(len(requests))

    def one(body: dict[str, Any], key: str) -> httpx.Response:
        start.wait()
        return client.post(URL, json=body, headers={**headers, "Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda item: one(*item), requests))


def test_concurrent_bookings_never_exceed_the_advisers(
        engine: Engine, client: TestClient, agencies: None, session: Session) -> None:
    # A real slot, with the real clock: the server in the subprocess uses it too.
    offer = list_slots(session=session, agency_id="t-book-rush", service_id="information_orientation",
                       start=datetime.now(CASA).date() + timedelta(days=1), days=7, now=datetime.now(UTC))
    slot = offer.slots[0].starts_at.isoformat()
    requests = _rush(slot)
    if engine.dialect.name == "postgresql":
        responses = _fire_at_uvicorn(engine.url.render_as_string(hide_password=False), requests)
    else:
        responses = _fire_threads(client, requests)

    advisers = 3
    codes = Counter(r.status_code for r in responses)
    unexpected = [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes == {201: advisers, 409: CONCURRENT_REQUESTS - advisers}, unexpected
    assert all("full" in r.json()["detail"] for r in responses if r.status_code == 409)
    rows = active_rows(session, "t-book-rush")
    assert len(rows) == advisers and sorted(r.seat for r in rows) == [1, 2, 3]
    assert {r.reference for r in rows} == {r.json()["reference"] for r in responses if r.status_code == 201}
    assert session.scalar(select(func.count()).select_from(SeatHold)) == advisers
    assert session.scalar(select(func.count()).select_from(Citizen)) == advisers  # losers left nothing behind


def test_concurrent_retries_of_one_request_book_once(client: TestClient, agencies: None, session: Session) -> None:
    offer = list_slots(session=session, agency_id="t-book-rush", service_id="information_orientation",
                       start=datetime.now(CASA).date() + timedelta(days=1), days=7, now=datetime.now(UTC))
    body = booking(agency_id="t-book-rush", starts_at=offer.slots[0].starts_at.isoformat())
    responses = _fire_threads(client, [(body, "one-request-retried")] * 12)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["reference"] for r in responses}) == 1
    assert len(active_rows(session, "t-book-rush")) == 1
