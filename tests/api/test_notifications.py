"""WhatsApp notifications: what booking, moving, cancelling and erasure put in the outbox, and the
notifier that sends it as approved templates to a local stand-in for Twilio (never the Internet):
per-language ContentSids, retries, development mode, leases, and workers that never send a row twice."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import app.cli
import app.main
import pytest
from app.core.config import Settings, get_settings
from app.core.security import Caller
from app.models import Agency, Appointment, Citizen, Handoff, IdempotencyRecord, OutboxMessage, StaffSession, StaffUser
from app.models.appointment import SeatHold
from app.notifier import THREAD_NAME, Notifier
from app.services import appointments as appointments_service
from app.services import notifications
from app.services.auth import create_staff
from app.services.availability import current_time
from app.services.twilio_sender import TwilioSender, sender_from_settings
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, delete, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from twilio_recorder import TwilioRecorder

CASA = ZoneInfo("Africa/Casablanca")
EVERY_DAY = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
AGENCY = "t-notify"
AGENCY_FR, AGENCY_AR = "Agence ANAPEC Test", "وكالة أنابيك تجريبية"
NOW = datetime(2027, 1, 8, 10, 0, tzinfo=CASA)  # Friday
TUESDAY_9H = "2027-01-12T09:00:00+01:00"
PHONE = "+212612345678"
URL = "/api/v1/appointments"
API_DIR = Path(__file__).resolve().parents[2] / "api"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"
SENDER = "whatsapp:+14155238886"


def sid(tag: str) -> str:
    return "HX" + tag * (32 // len(tag))


SIDS = {
    # No Darija (Latin script) confirmation: it falls back to the French one.
    "confirmation": {"fr": sid("c1"), "ar": sid("c2"), "ary": sid("c3")},
    "reminder": {"fr": sid("r1"), "ar": sid("r2"), "ary": sid("r3"), "ary_latn": sid("r4")},
    "cancellation": {"fr": sid("x1")},
}


# --- fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture
def agency(session_factory: sessionmaker[Session]) -> Iterator[None]:
    with session_factory() as session:
        session.add(Agency(id=AGENCY, name=AGENCY_FR, name_ar=AGENCY_AR, region="Casablanca-Settat",
                           province="Casablanca", city="Casablanca", opening_hours=EVERY_DAY, advisers=2,
                           slot_minutes=30, active=True))
        session.commit()
    yield
    with session_factory() as session:
        for model in (OutboxMessage, IdempotencyRecord, Handoff, StaffSession, SeatHold, Appointment, Citizen,
                      StaffUser):
            session.execute(delete(model))
        session.execute(delete(Agency).where(Agency.id == AGENCY))
        session.commit()


@pytest.fixture
def clock() -> dict[str, datetime]:
    """The API's "now"; tests move it."""
    return {"now": NOW.astimezone(UTC)}


@pytest.fixture
def api(client: TestClient, agency: None, clock: dict[str, datetime]) -> TestClient:
    client.app.dependency_overrides[current_time] = lambda: clock["now"]  # type: ignore[attr-defined]
    return client


@pytest.fixture
def recorder() -> Iterator[TwilioRecorder]:
    stand_in = TwilioRecorder().start()
    yield stand_in
    stand_in.stop()


def twilio_settings(recorder: TwilioRecorder, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN, "twilio_whatsapp_from": "+14155238886",
        "twilio_api_base_url": recorder.url, "twilio_content_sids": SIDS, "twilio_timeout_seconds": 5,
        "notifier_max_attempts": 3, "notifier_retry_seconds": 60, "notifier_batch_size": 20,
        "notifier_lease_seconds": 300, "notifier_poll_seconds": 0.1, **overrides}
    return Settings(**values)


def dev_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"twilio_account_sid": "", "twilio_auth_token": "", "twilio_whatsapp_from": "",
                              "twilio_content_sids": {}, "twilio_api_base_url": "", **overrides}
    return Settings(**values)


def notifier(sessions: sessionmaker[Session], settings: Settings, when: datetime | Callable[[], datetime],
             ) -> Notifier:
    return Notifier(sessions=sessions, settings=settings,
                    clock=when if callable(when) else (lambda: when.astimezone(UTC)))


def book(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"full_name": "Salma Benali", "phone": "0612345678", "agency_id": AGENCY,
                            "service": "information_orientation", "starts_at": TUESDAY_9H, "language": "fr",
                            "channel": "whatsapp", "whatsapp_opt_in": True, **overrides}
    response = client.post(URL, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()


def outbox(session: Session, **where: Any) -> list[OutboxMessage]:
    session.expire_all()
    stmt = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
    return list(session.scalars(stmt))


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def appointment_id(session: Session, reference: str) -> int:
    session.expire_all()
    found = session.scalar(select(Appointment.id).where(Appointment.reference == reference))
    assert found is not None
    return found


def opted_in(session: Session, phone: str, *, language: str = "fr", name: str = "Personne") -> Citizen:
    citizen = Citizen(phone=phone, full_name=name, language=language, channel="whatsapp",
                      whatsapp_opt_in_at=NOW.astimezone(UTC), created_at=NOW.astimezone(UTC))
    session.add(citizen)
    session.commit()
    return citizen


# --- what goes into the outbox ------------------------------------------------------------------

def test_a_whatsapp_booking_with_opt_in_queues_a_confirmation_now_and_a_reminder_the_day_before(
        api: TestClient, service_headers: dict[str, str], session: Session) -> None:
    booked = book(api, service_headers, language="ary")

    confirmation, reminder = outbox(session)
    assert (confirmation.kind, confirmation.status, utc(confirmation.due_at)) == ("confirmation", "pending",
                                                                                  NOW.astimezone(UTC))
    # Monday 11 January, 10:00 in Casablanca (UTC+1) for Tuesday's 09:00.
    assert (reminder.kind, reminder.status, utc(reminder.due_at)) == ("reminder", "pending",
                                                                      datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    expected = {"1": "Salma Benali", "2": "12/01/2027", "3": "09:00", "4": AGENCY_AR, "5": booked["reference"]}
    for row in (confirmation, reminder):
        assert (row.to_phone, row.language, row.variables, row.attempts) == (PHONE, "ary", expected, 0)
        assert row.appointment_id == appointment_id(session, booked["reference"])
    citizen = session.scalar(select(Citizen).where(Citizen.phone == PHONE))
    assert citizen is not None and utc(citizen.whatsapp_opt_in_at or NOW) == NOW.astimezone(UTC)


def test_without_opt_in_no_message_is_queued(api: TestClient, service_headers: dict[str, str],
                                             session: Session) -> None:
    book(api, service_headers, whatsapp_opt_in=False)
    assert outbox(session) == []
    citizen = session.scalar(select(Citizen).where(Citizen.phone == PHONE))
    assert citizen is not None and citizen.whatsapp_opt_in_at is None


def test_a_web_booking_gets_no_whatsapp_message(api: TestClient, service_headers: dict[str, str],
                                                session: Session) -> None:
    book(api, service_headers, channel="web", whatsapp_opt_in=True)
    assert outbox(session) == []


def test_an_earlier_opt_in_still_counts_for_the_next_booking(api: TestClient, service_headers: dict[str, str],
                                                             session: Session) -> None:
    book(api, service_headers)
    second = book(api, service_headers, starts_at="2027-01-13T09:00:00+01:00", whatsapp_opt_in=False)
    kinds = [row.kind for row in outbox(session, appointment_id=appointment_id(session, second["reference"]))]
    assert kinds == ["confirmation", "reminder"]


@pytest.mark.parametrize(("starts_at", "hour", "due"), [
    # An ordinary day: the calendar day before, at the hour, Casablanca time (UTC+1).
    (datetime(2027, 1, 12, 9, 0, tzinfo=CASA), 10, datetime(2027, 1, 11, 9, 0, tzinfo=UTC)),
    (datetime(2027, 1, 12, 9, 0, tzinfo=CASA), 18, datetime(2027, 1, 11, 17, 0, tzinfo=UTC)),
    # Just after midnight: still the day before, not 24 hours before.
    (datetime(2027, 1, 12, 0, 30, tzinfo=CASA), 10, datetime(2027, 1, 11, 9, 0, tzinfo=UTC)),
    # Ramadan 2027: Morocco goes to UTC+0 on 7 February at 03:00 and back to UTC+1 on 14 March.
    (datetime(2027, 2, 7, 9, 0, tzinfo=CASA), 10, datetime(2027, 2, 6, 9, 0, tzinfo=UTC)),   # +1 the day before
    (datetime(2027, 2, 8, 9, 0, tzinfo=CASA), 10, datetime(2027, 2, 7, 10, 0, tzinfo=UTC)),  # +0 both days
    (datetime(2027, 3, 14, 9, 0, tzinfo=CASA), 10, datetime(2027, 3, 13, 10, 0, tzinfo=UTC)),  # +0 the day before
    (datetime(2027, 3, 15, 9, 0, tzinfo=CASA), 10, datetime(2027, 3, 14, 9, 0, tzinfo=UTC)),  # +1 again
])
def test_the_reminder_is_due_the_day_before_at_the_local_hour(starts_at: datetime, hour: int,
                                                                due: datetime) -> None:
    assert notifications.reminder_due(starts_at.astimezone(UTC), hour=hour, zone=CASA) == due


def test_a_booking_across_the_ramadan_time_change_gets_the_right_reminder(
        api: TestClient, service_headers: dict[str, str], session: Session, clock: dict[str, datetime]) -> None:
    clock["now"] = datetime(2027, 2, 1, 10, 0, tzinfo=CASA).astimezone(UTC)
    # Monday 8 February 09:00 is 09:00 UTC (Ramadan time); Sunday's 10:00 is 10:00 UTC, not 09:00.
    book(api, service_headers, starts_at="2027-02-08T09:00:00+00:00")
    [reminder] = outbox(session, kind="reminder")
    assert utc(reminder.due_at) == datetime(2027, 2, 7, 10, 0, tzinfo=UTC)
    assert reminder.variables["2"] == "08/02/2027" and reminder.variables["3"] == "09:00"


def test_no_reminder_when_its_moment_has_already_passed(api: TestClient, service_headers: dict[str, str],
                                                        session: Session, clock: dict[str, datetime]) -> None:
    clock["now"] = datetime(2027, 1, 11, 15, 0, tzinfo=CASA).astimezone(UTC)  # after Monday 10:00
    book(api, service_headers)
    assert [row.kind for row in outbox(session)] == ["confirmation"]


def test_rescheduling_moves_the_reminder_and_confirms_the_new_time(
        api: TestClient, service_headers: dict[str, str], session: Session) -> None:
    booked = book(api, service_headers)
    old_id = appointment_id(session, booked["reference"])
    moved = api.post(f"{URL}/{booked['reference']}/reschedule", json={"starts_at": "2027-01-13T10:30:00+01:00"},
                     headers=service_headers)
    assert moved.status_code == 200, moved.text
    new_id = appointment_id(session, booked["reference"])
    assert new_id != old_id

    old_rows = outbox(session, appointment_id=old_id)
    assert [(row.kind, row.status, row.last_error) for row in old_rows] == [
        ("confirmation", "skipped", f"appointment moved ({booked['reference']})"),
        ("reminder", "skipped", f"appointment moved ({booked['reference']})")]
    confirmation, reminder = outbox(session, appointment_id=new_id)
    assert (confirmation.kind, confirmation.status) == ("confirmation", "pending")
    assert (reminder.kind, reminder.status, utc(reminder.due_at)) == ("reminder", "pending",
                                                                      datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    assert reminder.variables == {"1": "Salma Benali", "2": "13/01/2027", "3": "10:30", "4": AGENCY_FR,
                                  "5": booked["reference"]}
    assert len(outbox(session, kind="reminder", status="pending")) == 1


def test_a_move_that_fails_changes_no_message(api: TestClient, service_headers: dict[str, str],
                                              session: Session) -> None:
    booked = book(api, service_headers)
    for phone in ("0611111111", "0622222222"):  # both advisers taken at the new time
        book(api, service_headers, phone=phone, starts_at="2027-01-13T10:30:00+01:00", whatsapp_opt_in=False)
    before = [(row.id, row.kind, row.status) for row in outbox(session)]
    moved = api.post(f"{URL}/{booked['reference']}/reschedule", json={"starts_at": "2027-01-13T10:30:00+01:00"},
                     headers=service_headers)
    assert moved.status_code == 409
    assert [(row.id, row.kind, row.status) for row in outbox(session)] == before


def test_cancelling_drops_the_reminder_and_queues_a_cancellation(
        api: TestClient, service_headers: dict[str, str], session: Session,
        session_factory: sessionmaker[Session]) -> None:
    booked = book(api, service_headers)
    assert notifier(session_factory, dev_settings(), NOW).run_once().recorded == 1  # the confirmation
    response = api.post(f"{URL}/{booked['reference']}/cancel", headers=service_headers)
    assert response.status_code == 200, response.text

    rows = outbox(session)
    assert [(row.kind, row.status, row.last_error) for row in rows] == [
        ("confirmation", "recorded", None), ("reminder", "skipped", "appointment cancelled"),
        ("cancellation", "pending", None)]
    assert utc(rows[2].due_at) == NOW.astimezone(UTC) and rows[2].variables["5"] == booked["reference"]


def test_a_staff_cancellation_tells_the_person_too(api: TestClient, service_headers: dict[str, str],
                                                   session: Session) -> None:
    booked = book(api, service_headers)
    create_staff(session=session, email="agent@example.ma", full_name="Agent", role="staff", agency_id=AGENCY,
                 password="correct horse battery")
    token = api.post("/api/v1/auth/login", json={"email": "agent@example.ma",
                                                 "password": "correct horse battery"}).json()["token"]
    api.cookies.clear()
    response = api.post(f"{URL}/{booked['reference']}/cancel", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert [(row.kind, row.status) for row in outbox(session)] == [
        ("confirmation", "skipped"), ("reminder", "skipped"), ("cancellation", "pending")]


def test_a_cancellation_row_added_by_the_staff_workspace_is_not_doubled(
        api: TestClient, service_headers: dict[str, str], session: Session, recorder: TwilioRecorder,
        session_factory: sessionmaker[Session]) -> None:
    booked = book(api, service_headers)
    admin = create_staff(session=session, email="admin@example.ma", full_name="Admin", role="admin", agency_id=None,
                         password="correct horse battery")
    appointment = session.get(Appointment, appointment_id(session, booked["reference"]))
    assert appointment is not None
    # What the staff workspace writes, in the same transaction as the cancellation.
    session.add(OutboxMessage(kind="cancellation", appointment_id=appointment.id, to_phone=PHONE, language="fr",
                              variables={"reference": booked["reference"], "date": "2027-01-12",
                                         "cancelled_by": "agency"},
                              due_at=NOW.astimezone(UTC), status="pending", attempts=0))
    appointments_service.cancel(session=session, reference=booked["reference"], caller=Caller(staff=admin),
                                phone=None, now=NOW)
    [cancellation] = outbox(session, kind="cancellation")

    report = notifier(session_factory, twilio_settings(recorder), NOW).run_once()

    assert (report.claimed, report.sent) == (1, 1)  # confirmation and reminder were dropped at cancel
    [request] = recorder.requests
    assert request.content_sid == SIDS["cancellation"]["fr"]
    assert request.content_variables == {"1": "Salma Benali", "2": "12/01/2027", "3": "09:00", "4": AGENCY_FR,
                                         "5": booked["reference"]}
    assert outbox(session, id=cancellation.id)[0].status == "sent"


def test_no_cancellation_message_without_opt_in(api: TestClient, service_headers: dict[str, str],
                                                session: Session) -> None:
    booked = book(api, service_headers, whatsapp_opt_in=False)
    assert api.post(f"{URL}/{booked['reference']}/cancel", headers=service_headers).status_code == 200
    assert outbox(session) == []


def test_erasure_removes_the_persons_messages(api: TestClient, service_headers: dict[str, str], session: Session,
                                              recorder: TwilioRecorder,
                                              session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers)
    response = api.delete(f"/api/v1/citizens/{PHONE}", headers=service_headers)
    assert response.status_code == 200 and response.json()["notifications_erased"] == 2
    assert outbox(session) == []
    report = notifier(session_factory, twilio_settings(recorder), NOW + timedelta(days=3)).run_once()
    assert report.claimed == 0 and recorder.requests == []


# --- sending --------------------------------------------------------------------------------------

def test_each_language_gets_its_template_with_the_appointments_variables(
        api: TestClient, service_headers: dict[str, str], session: Session, recorder: TwilioRecorder,
        session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture) -> None:
    people = {"fr": "0611111111", "ar": "0622222222", "ary": "0633333333", "ary_latn": "0744444444"}
    times = {"fr": "09:00", "ar": "09:30", "ary": "10:00", "ary_latn": "10:30"}
    references = {language: book(api, service_headers, phone=phone, language=language,
                                 starts_at=f"2027-01-12T{times[language]}:00+01:00")["reference"]
                  for language, phone in people.items()}
    settings = twilio_settings(recorder)

    with caplog.at_level(logging.WARNING, logger="app.notifications"):
        report = notifier(session_factory, settings, NOW).run_once()

    assert (report.claimed, report.sent) == (4, 4)  # the reminders are not due yet
    assert "no confirmation template (ContentSid) for language ary_latn" in caplog.text
    by_phone = {request.to: request for request in recorder.requests}
    expected_sid = {"fr": SIDS["confirmation"]["fr"], "ar": SIDS["confirmation"]["ar"],
                    "ary": SIDS["confirmation"]["ary"], "ary_latn": SIDS["confirmation"]["fr"]}
    for language, phone in people.items():
        request = by_phone[f"whatsapp:+212{phone[1:]}"]
        assert (request.account_sid, request.username, request.password) == (ACCOUNT_SID, ACCOUNT_SID, AUTH_TOKEN)
        assert request.from_ == SENDER and request.content_sid == expected_sid[language]
        assert request.content_variables == {
            "1": "Salma Benali", "2": "12/01/2027", "3": times[language],
            "4": AGENCY_AR if language in ("ar", "ary") else AGENCY_FR, "5": references[language]}
        assert "Body" not in request.form  # a template, never free-form text
    for row in outbox(session, kind="confirmation"):
        assert row.status == "sent" and (row.provider_sid or "").startswith("SM") and row.finished_at is not None
        assert row.content_sid == expected_sid[row.language]

    # The day before, at 10:00 Casablanca time, the reminders go (Darija in Latin script has its own).
    assert notifier(session_factory, settings, datetime(2027, 1, 11, 9, 59, tzinfo=CASA)).run_once().claimed == 0
    report = notifier(session_factory, settings, datetime(2027, 1, 11, 10, 0, tzinfo=CASA)).run_once()
    assert report.sent == 4
    reminders = {request.to: request.content_sid for request in recorder.requests[4:]}
    assert reminders == {f"whatsapp:+212{phone[1:]}": SIDS["reminder"][language]
                         for language, phone in people.items()}


def test_a_failing_send_is_retried_with_backoff_then_marked_failed(
        api: TestClient, service_headers: dict[str, str], session: Session, recorder: TwilioRecorder,
        session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers, channel="whatsapp")
    recorder.fail(status=503, code=20503, message="Service Unavailable")
    settings = twilio_settings(recorder)  # 3 attempts, first retry after 60 s, then 120 s
    start = NOW.astimezone(UTC)

    assert notifier(session_factory, settings, start).run_once().retried == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts, utc(row.due_at)) == ("pending", 1, start + timedelta(seconds=60))
    assert "503" in (row.last_error or "") and row.claim_token is None

    assert notifier(session_factory, settings, start + timedelta(seconds=59)).run_once().claimed == 0
    assert notifier(session_factory, settings, start + timedelta(seconds=60)).run_once().retried == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts, utc(row.due_at)) == ("pending", 2, start + timedelta(seconds=180))

    assert notifier(session_factory, settings, start + timedelta(seconds=180)).run_once().failed == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts) == ("failed", 3) and "Service Unavailable" in (row.last_error or "")
    assert notifier(session_factory, settings, start + timedelta(hours=2)).run_once().claimed == 0
    assert len(recorder.requests) == 3


def test_a_passing_failure_is_retried_and_then_sent(api: TestClient, service_headers: dict[str, str],
                                                    session: Session, recorder: TwilioRecorder,
                                                    session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers)
    recorder.fail(times=1)
    settings = twilio_settings(recorder)
    assert notifier(session_factory, settings, NOW).run_once().retried == 1
    assert notifier(session_factory, settings, NOW + timedelta(minutes=1)).run_once().sent == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert [request.answered for request in recorder.requests] == [500, 201]


def test_a_message_twilio_refuses_fails_at_once(api: TestClient, service_headers: dict[str, str],
                                                session: Session, recorder: TwilioRecorder,
                                                session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers)
    recorder.fail(status=400, code=21211, message="Invalid 'To' Phone Number")
    assert notifier(session_factory, twilio_settings(recorder), NOW).run_once().failed == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts) == ("failed", 1) and "21211" in (row.last_error or "")


def test_development_mode_records_and_logs_without_sending(
        api: TestClient, service_headers: dict[str, str], session: Session, recorder: TwilioRecorder,
        session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture) -> None:
    booked = book(api, service_headers)
    worker = notifier(session_factory, dev_settings(twilio_api_base_url=recorder.url), NOW)
    assert worker.development
    with caplog.at_level(logging.INFO, logger="app.notifications"):
        report = worker.run_once()
    assert report.recorded == 1 and recorder.requests == []
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.content_sid, row.finished_at is not None) == ("recorded", None, True)
    assert row.variables["5"] == booked["reference"]
    assert "development mode, not sent: confirmation to +212*******78" in caplog.text
    assert PHONE not in caplog.text  # logs do not carry the whole number


def test_in_production_development_mode_warns_and_keeps_names_out_of_the_logs(
        api: TestClient, service_headers: dict[str, str], session_factory: sessionmaker[Session],
        caplog: pytest.LogCaptureFixture) -> None:
    book(api, service_headers)
    worker = notifier(session_factory, dev_settings(environment="production", notifier_poll_seconds=0.05), NOW)
    with caplog.at_level(logging.INFO, logger="app"):
        worker.start()
        try:
            assert _wait_for(lambda: "development mode, not sent" in caplog.text, timeout=10)
        finally:
            worker.stop()
    assert "WhatsApp messages are NOT sent" in caplog.text
    assert "(hidden in production)" in caplog.text and "Salma" not in caplog.text


def test_development_mode_without_credentials_or_without_templates() -> None:
    assert sender_from_settings(dev_settings()) is None
    assert sender_from_settings(dev_settings(twilio_content_sids=SIDS)) is None
    with_credentials = {"twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
                        "twilio_whatsapp_from": SENDER}
    assert sender_from_settings(dev_settings(**with_credentials)) is None  # no template: nothing to send
    assert isinstance(sender_from_settings(dev_settings(**with_credentials, twilio_content_sids=SIDS)), TwilioSender)


def test_templates_configured_without_credentials_are_recorded_with_their_sid(
        api: TestClient, service_headers: dict[str, str], session: Session,
        session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers, language="ary_latn")
    assert notifier(session_factory, dev_settings(twilio_content_sids=SIDS), NOW).run_once().recorded == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.content_sid) == ("recorded", SIDS["confirmation"]["fr"])


def test_rows_written_elsewhere_are_checked_when_sent(api: TestClient, service_headers: dict[str, str],
                                                      session: Session, recorder: TwilioRecorder,
                                                      session_factory: sessionmaker[Session]) -> None:
    booked = book(api, service_headers)
    stale_id = appointment_id(session, booked["reference"])
    # Someone changed the appointment without going through the booking service.
    session.execute(update(Appointment).where(Appointment.id == stale_id).values(status="cancelled"))
    opted_in(session, "+212700000001", language="ar", name="Karim")
    due = NOW.astimezone(UTC)
    session.add_all([
        # To someone who never opted in: not sent, whoever wrote it.
        OutboxMessage(kind="cancellation", to_phone="+212700000002", language="fr", variables={}, due_at=due),
        # An operator's row with its own template and named variables.
        OutboxMessage(kind="cancellation", to_phone="+212700000001", language="ar", content_sid=sid("ab"),
                      variables={"name": "Karim", "reference": "ZZ99ZZ"}, due_at=due),
        # A kind nobody configured: no free-form text instead.
        OutboxMessage(kind="survey", to_phone="+212700000001", language="ar", variables={}, due_at=due),
    ])
    session.commit()

    report = notifier(session_factory, twilio_settings(recorder), NOW + timedelta(days=3)).run_once()

    outcomes = {(row.kind, row.to_phone): (row.status, row.last_error) for row in outbox(session)}
    assert outcomes == {
        ("confirmation", PHONE): ("skipped", "appointment is cancelled"),
        ("reminder", PHONE): ("skipped", "appointment is cancelled"),
        ("cancellation", "+212700000002"): ("skipped", "no WhatsApp opt-in for this number"),
        ("cancellation", "+212700000001"): ("sent", None),
        ("survey", "+212700000001"): ("failed", "no approved template (ContentSid) configured for survey"),
    }
    assert (report.sent, report.skipped, report.failed) == (1, 3, 1)
    [request] = recorder.requests
    assert request.content_sid == sid("ab") and request.content_variables == {"1": "Karim", "5": "ZZ99ZZ"}


def test_messages_for_an_appointment_already_started_are_skipped(
        api: TestClient, service_headers: dict[str, str], session: Session, recorder: TwilioRecorder,
        session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers)
    # Every notifier was stopped from the booking until after the appointment had started.
    report = notifier(session_factory, twilio_settings(recorder), datetime(2027, 1, 12, 9, 5, tzinfo=CASA)).run_once()
    assert (report.sent, report.skipped) == (0, 2) and recorder.requests == []
    assert {row.last_error for row in outbox(session)} == {"appointment already started"}


# --- several workers, restarts ------------------------------------------------------------------

def test_a_row_claimed_by_a_stopped_worker_is_taken_over_after_the_lease(
        api: TestClient, service_headers: dict[str, str], session: Session, recorder: TwilioRecorder,
        session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers)
    start = NOW.astimezone(UTC)
    with session_factory() as claiming:  # a worker claims the confirmation, then its process dies
        [lost] = notifications.claim_due(claiming, now=start, limit=10, lease=timedelta(seconds=300))
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts) == ("sending", 1)

    settings = twilio_settings(recorder)
    assert notifier(session_factory, settings, start + timedelta(seconds=299)).run_once().claimed == 0
    assert notifier(session_factory, settings, start + timedelta(seconds=300)).run_once().sent == 1
    [row] = outbox(session, kind="confirmation")
    assert (row.status, row.attempts) == ("sent", 2) and len(recorder.requests) == 1
    # Were the first worker only slow, its late outcome would not overwrite the new one.
    assert notifications._record(session_factory, lost, status="failed") is False
    assert outbox(session, kind="confirmation")[0].status == "sent"


def test_a_worker_that_keeps_dying_on_a_row_gives_it_up(api: TestClient, service_headers: dict[str, str],
                                                        session: Session, recorder: TwilioRecorder,
                                                        session_factory: sessionmaker[Session]) -> None:
    book(api, service_headers)
    settings = twilio_settings(recorder, notifier_max_attempts=2)
    when = NOW.astimezone(UTC)
    for _ in range(2):
        with session_factory() as claiming:
            assert len(notifications.claim_due(claiming, now=when, limit=1, lease=timedelta(seconds=300))) == 1
        when += timedelta(seconds=301)
    assert notifier(session_factory, settings, when).run_once().failed == 1
    [row] = outbox(session, kind="confirmation")
    assert row.status == "failed" and "gave up after 2 attempts" in (row.last_error or "")
    assert recorder.requests == []


def _many_due_rows(session: Session, count: int) -> list[str]:
    phones = [f"+2126{index:08d}" for index in range(count)]
    for index, phone in enumerate(phones):
        opted_in(session, phone, name=f"Personne {index}")
    # Due by the real clock too: the notifier processes and threads below use it.
    due = min(datetime.now(UTC), NOW.astimezone(UTC)) - timedelta(minutes=1)
    session.add_all(OutboxMessage(kind="confirmation", to_phone=phone, language="fr",
                                  variables={"1": f"Personne {index}"}, due_at=due)
                    for index, phone in enumerate(phones))
    session.commit()
    return phones


def test_a_row_is_claimed_by_one_worker_only(engine: Engine, agency: None, session: Session,
                                             session_factory: sessionmaker[Session]) -> None:
    """Worker A claims while worker B is between reading due rows and claiming them."""
    _many_due_rows(session, 3)
    lease = timedelta(seconds=300)
    claimed_by_a: list[list[notifications.ClaimedRow]] = []
    with session_factory() as worker_b:
        def a_claims_in_between(state: ORMExecuteState) -> None:
            if state.is_update and not claimed_by_a:  # B's claiming UPDATE is about to run
                with session_factory() as worker_a:
                    claimed_by_a.append(notifications.claim_due(worker_a, now=NOW, limit=10, lease=lease))

        event.listen(worker_b, "do_orm_execute", a_claims_in_between)
        claimed_by_b = notifications.claim_due(worker_b, now=NOW, limit=10, lease=lease)
    assert len(claimed_by_a) == 1
    a_ids = {row.id for row in claimed_by_a[0]}
    b_ids = {row.id for row in claimed_by_b}
    assert not a_ids & b_ids and len(a_ids | b_ids) == 3
    if engine.dialect.name == "postgresql":
        assert a_ids == set()  # B's rows were locked (FOR UPDATE): A skipped them without waiting
    else:
        assert b_ids == set()  # SQLite: B's compare-and-set found the rows already claimed by A


def test_concurrent_workers_never_send_a_row_twice(agency: None, session: Session, recorder: TwilioRecorder,
                                                   session_factory: sessionmaker[Session]) -> None:
    phones = _many_due_rows(session, 48)
    recorder.delay_seconds = 0.005  # keep several claims in flight at once
    settings = twilio_settings(recorder, notifier_batch_size=4)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work() -> None:
        worker = notifier(session_factory, settings, NOW)
        try:
            start.wait()
            while worker.run_once().claimed:
                pass
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    counts = Counter(request.to for request in recorder.requests)
    assert counts == Counter({f"whatsapp:{phone}": 1 for phone in phones})
    rows = outbox(session)
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_two_notifier_processes_share_the_outbox(engine: Engine, agency: None, session: Session,
                                                 recorder: TwilioRecorder, tmp_path: Path) -> None:
    phones = _many_due_rows(session, 30)
    recorder.delay_seconds = 0.01
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False), "ENVIRONMENT": "test",
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": SENDER,
           "TWILIO_API_BASE_URL": recorder.url, "TWILIO_CONTENT_SIDS": json.dumps(SIDS),
           "NOTIFIER_POLL_SECONDS": "0.2", "NOTIFIER_BATCH_SIZE": "3"}
    # Files, not pipes: a chatty process must never block on its own log.
    logs = [tmp_path / f"notifier-{index}.log" for index in range(2)]
    with ExitStack() as files:
        processes = [subprocess.Popen([sys.executable, "-m", "app.cli", "notifier"], cwd=API_DIR, env=env,
                                      stdout=files.enter_context(path.open("wb")), stderr=subprocess.STDOUT)
                     for path in logs]
        try:
            finished = _wait_for(lambda: all(row.status == "sent" for row in outbox(session)), timeout=90)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)
    output = [path.read_text(errors="replace") for path in logs]
    assert finished, output
    assert [process.returncode for process in processes] == [0, 0], output
    assert all("WhatsApp notifier stopped" in log for log in output), output
    assert Counter(request.to for request in recorder.requests) == Counter({f"whatsapp:{p}": 1 for p in phones})


def test_the_cli_sends_one_batch_with_once(agency: None, session: Session, session_factory: sessionmaker[Session],
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           ) -> None:
    _many_due_rows(session, 2)
    monkeypatch.setattr(app.cli, "get_sessionmaker", lambda: session_factory)
    monkeypatch.setattr(app.cli, "get_settings", lambda: dev_settings())
    assert app.cli.main(["notifier", "--once"]) == 0
    printed = capsys.readouterr().out
    assert "claimed=2" in printed and "recorded=2" in printed
    assert {row.status for row in outbox(session)} == {"recorded"}


# --- in the backend's lifespan ------------------------------------------------------------------

def _notifier_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME]


def test_the_backend_runs_the_notifier_while_it_runs(agency: None, session: Session,
                                                     session_factory: sessionmaker[Session],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _many_due_rows(session, 1)
    monkeypatch.setattr(app.main, "get_sessionmaker", lambda: session_factory)
    monkeypatch.setattr(app.main, "get_settings", lambda: dev_settings(notifier_poll_seconds=0.1))
    with TestClient(app.main.create_app()):
        assert len(_notifier_threads()) == 1
        assert _wait_for(lambda: [row.status for row in outbox(session)] == ["recorded"], timeout=20)
    assert _notifier_threads() == []


def test_the_notifier_can_be_left_to_its_own_process(session_factory: sessionmaker[Session],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.main, "get_sessionmaker", lambda: session_factory)
    monkeypatch.setattr(app.main, "get_settings", lambda: dev_settings(notifier_enabled=False))
    with TestClient(app.main.create_app()):
        assert _notifier_threads() == []


def test_an_app_on_a_swapped_database_runs_no_notifier(client: TestClient) -> None:
    assert client.get("/health").status_code == 200 and _notifier_threads() == []


def test_the_notifier_survives_a_failing_round(session_factory: sessionmaker[Session]) -> None:
    calls: list[int] = []

    def broken_clock() -> datetime:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return NOW.astimezone(UTC)

    worker = notifier(session_factory, dev_settings(notifier_poll_seconds=0.05), broken_clock)
    worker.start()
    try:
        assert _wait_for(lambda: len(calls) >= 3, timeout=10)
    finally:
        worker.stop()
    assert _notifier_threads() == []


# --- settings -----------------------------------------------------------------------------------

def test_content_sids_come_from_json_and_typos_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_CONTENT_SIDS", json.dumps({"reminder": {"ary": sid("r3")}}))
    assert Settings().twilio_content_sids == {"reminder": {"ary": sid("r3")}}
    monkeypatch.setenv("TWILIO_CONTENT_SIDS", "")
    assert Settings().twilio_content_sids == {}
    for wrong in ({"reminders": {"fr": sid("r1")}}, {"reminder": {"darija": sid("r1")}},
                  {"reminder": {"fr": "MG123"}}):
        monkeypatch.setenv("TWILIO_CONTENT_SIDS", json.dumps(wrong))
        with pytest.raises(ValidationError):
            Settings()
    monkeypatch.setenv("TWILIO_CONTENT_SIDS", "{not json")
    with pytest.raises(ValidationError):
        Settings()


def test_the_lease_must_outlast_a_batch() -> None:
    with pytest.raises(ValidationError, match="NOTIFIER_LEASE_SECONDS"):
        Settings(notifier_batch_size=50, twilio_timeout_seconds=10, notifier_lease_seconds=300)
    assert get_settings().notifier_lease_seconds > get_settings().notifier_batch_size * 10


def test_the_defaults_are_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM", "TWILIO_CONTENT_SIDS",
                 "NOTIFIER_ENABLED", "REMINDER_HOUR"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.notifier_enabled and defaults.reminder_hour == 10 and defaults.twilio_content_sids == {}
    assert sender_from_settings(defaults) is None
