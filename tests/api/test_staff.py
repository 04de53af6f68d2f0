"""The agency workspace: agenda with search and filters, attendance, cancellation (the person is
told), moves to a free slot, the callback queue, live changes (polling and Server-Sent Events),
CSV and iCalendar exports, expiring sessions, and the pages at /staff.

The `Workspace` fixture (two agencies, one adviser of each, an admin, appointments booked
through the booking service) is shared with the stats and authorization tests."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app.core import security
from app.models import (
    Agency,
    Appointment,
    CalendarFeed,
    Citizen,
    Event,
    Handoff,
    IdempotencyRecord,
    OutboxMessage,
    StaffSession,
    StaffUser,
)
from app.models.appointment import SeatHold
from app.routers import staff as staff_router
from app.schemas.appointments import AppointmentCreate
from app.schemas.handoffs import HandoffCreate
from app.services import appointments as booking
from app.services.auth import create_staff
from app.services.availability import current_time
from app.services.handoffs import create_handoff
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

CASA = ZoneInfo("Africa/Casablanca")
NOW = datetime(2027, 1, 8, 10, 0, tzinfo=CASA)  # a Friday; Monday 11 January is a public holiday
WEEKDAY = [["08:30", "12:30"], ["14:00", "16:30"]]
FRIDAY = [["08:30", "11:30"], ["15:00", "16:30"]]
HOURS = {"mon": WEEKDAY, "tue": WEEKDAY, "wed": WEEKDAY, "thu": WEEKDAY, "fri": FRIDAY}
AGENCY_A, AGENCY_B = "t-ws-a", "t-ws-b"
PASSWORD = "correct horse battery staple"
API = "/api/v1/staff"
# Targuist has its own coordinates and no agency of the network: agency B is put there, so that
# a callback request naming Targuist is routed to B.
TARGUIST = (34.93769, -4.31856)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CASA)


@dataclass
class Workspace:
    client: TestClient
    sessions: sessionmaker[Session]
    tokens: dict[str, str] = field(default_factory=dict)
    staff_ids: dict[str, int] = field(default_factory=dict)
    phones: Iterator[int] = field(default_factory=lambda: iter(range(10_000_000, 99_999_999)))

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def get(self, path: str, who: str | None = "a", **params: Any) -> Any:
        return self.client.get(f"{API}{path}", params=params, headers=self.headers(who))

    def post(self, path: str, who: str | None = "a", body: Any = None, **params: Any) -> Any:
        return self.client.post(f"{API}{path}", json=body, params=params, headers=self.headers(who))

    def clock(self, when: datetime) -> None:
        self.client.app.dependency_overrides[current_time] = lambda: when.astimezone(UTC)  # type: ignore[attr-defined]

    def book(self, agency: str = AGENCY_A, starts_at: str = "2027-01-12T09:00", *, now: datetime = NOW,
             **overrides: Any) -> str:
        """An appointment booked through the booking service (as the bot would); its reference."""
        body: dict[str, Any] = {"full_name": "Salma Benali", "phone": f"06{next(self.phones)}", "agency_id": agency,
                                "service": "business_plan", "starts_at": local(starts_at), "language": "fr",
                                "channel": "whatsapp", "whatsapp_opt_in": True, "segment": "project_holder",
                                "program": "forsa"}
        body.update(overrides)
        with self.sessions() as session:
            result = booking.book(session=session, payload=AppointmentCreate(**body),
                                  idempotency_key=uuid.uuid4().hex, now=now)
        assert result.status_code == 201, result.body
        return str(result.body["reference"])

    def handoff(self, *, now: datetime = NOW, **overrides: Any) -> int:
        body: dict[str, Any] = {"phone": f"07{next(self.phones)}", "full_name": "Youssef", "agency_id": AGENCY_A,
                                "reason": "question", "summary": "Wach Forsa kat3ti flous l machro3 dyal l7lwa?",
                                "language": "ary_latn", "channel": "whatsapp"}
        body.update(overrides)
        with self.sessions() as session:
            return create_handoff(session=session, payload=HandoffCreate(**body), now=now).id


def _login(client: TestClient, email: str) -> str:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def wipe(session: Session) -> None:
    for model in (OutboxMessage, IdempotencyRecord, Handoff, StaffSession, CalendarFeed, SeatHold, Appointment,
                  Citizen, StaffUser, Event):
        session.execute(delete(model))
    session.execute(delete(Agency).where(Agency.id.in_((AGENCY_A, AGENCY_B))))
    session.commit()


def open_workspace(client: TestClient, session_factory: sessionmaker[Session],
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """Two agencies, an adviser of each and an admin, logged in; everything wiped afterwards."""
    # The accounts are made and logged in through the real services, with argon2 made cheap:
    # these tests are about the workspace, not about password hashing (tests/api/test_auth.py).
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with session_factory() as session:
        wipe(session)
        session.add(Agency(id=AGENCY_A, name="Agence Test A", name_ar="وكالة الاختبار أ", region="Souss-Massa",
                           province="Agadir-Ida-Ou-Tanane", city="Agadir", region_id="region-souss-massa",
                           opening_hours=HOURS, advisers=2, slot_minutes=30, active=True))
        session.add(Agency(id=AGENCY_B, name="Agence Test B", region="Tanger-Tétouan-Al Hoceïma",
                           province="Al Hoceïma", city="Targuist", region_id="region-tanger-tetouan-al-hoceima",
                           lat=TARGUIST[0], lon=TARGUIST[1], opening_hours=HOURS, advisers=1, slot_minutes=30,
                           active=True))
        session.commit()
        people = {"a": ("nadia@anapec.test", "staff", AGENCY_A), "b": ("omar@anapec.test", "staff", AGENCY_B),
                  "admin": ("pilotage@anapec.test", "admin", None)}
        workspace = Workspace(client=client, sessions=session_factory)
        for who, (email, role, agency) in people.items():
            account = create_staff(session=session, email=email, full_name=f"Staff {who}", role=role,
                                   agency_id=agency, password=PASSWORD)
            workspace.staff_ids[who] = account.id
    for who, (email, _, _) in people.items():
        workspace.tokens[who] = _login(client, email)
    # Each request says who it is; the last login's cookie must not speak for an anonymous one.
    client.cookies.clear()
    workspace.clock(NOW)
    yield workspace
    with session_factory() as session:
        wipe(session)


@pytest.fixture
def ws(client: TestClient, session_factory: sessionmaker[Session],
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(client, session_factory, monkeypatch)


# ------------------------------------------------------------------------------------- agenda
def test_the_agenda_shows_the_agencys_appointments_with_what_the_adviser_needs(ws: Workspace) -> None:
    mine = ws.book(starts_at="2027-01-12T09:00", full_name="Salma Benali", language="ary_latn")
    ws.book(AGENCY_B, starts_at="2027-01-12T09:00", full_name="Karim Other")
    response = ws.get("/agenda")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agency_id"] == AGENCY_A and body["from_date"] == "2027-01-08" and body["to_date"] == "2027-01-21"
    assert [item["reference"] for item in body["items"]] == [mine]
    item = body["items"][0]
    assert item | {"booked_at": None, "changed_at": None} == {
        "reference": mine, "status": "booked", "agency_id": AGENCY_A, "agency_name": "Agence Test A",
        "starts_at": "2027-01-12T09:00:00+01:00", "ends_at": "2027-01-12T10:00:00+01:00", "date": "2027-01-12",
        "time": "09:00", "full_name": "Salma Benali", "phone": item["phone"], "service": "business_plan",
        "service_name": "Aide au plan d'affaires (business plan)", "segment": "project_holder",
        "segment_name": "Porteur de projet",
        "program": "forsa", "program_name": item["program_name"], "language": "ary_latn", "channel": "whatsapp",
        "notes": None, "whatsapp_opt_in": True, "booked_at": None, "changed_at": None}
    assert item["phone"].startswith("+2126") and "Forsa" in item["program_name"]
    # Labels follow the page's language; the person's data does not change.
    arabic = ws.get("/agenda", lang="ar").json()["items"][0]
    assert arabic["agency_name"] == "وكالة الاختبار أ" and arabic["segment_name"] == "حامل مشروع"
    assert arabic["full_name"] == "Salma Benali"


def test_the_agenda_is_searched_and_filtered_by_day_service_and_status(ws: Workspace) -> None:
    tuesday = ws.book(starts_at="2027-01-12T09:00", full_name="Salma Benali", phone="0612345678")
    wednesday = ws.book(starts_at="2027-01-13T10:00", full_name="Hamza Alaoui", service="information_orientation")
    friday = ws.book(starts_at="2027-01-15T09:00", full_name="سعاد الإدريسي")

    def refs(**params: Any) -> list[str]:
        response = ws.get("/agenda", **params)
        assert response.status_code == 200, response.text
        return [item["reference"] for item in response.json()["items"]]

    assert refs() == [tuesday, wednesday, friday]
    assert refs(**{"from": "2027-01-13", "to": "2027-01-13"}) == [wednesday]
    assert refs(service="information_orientation") == [wednesday]
    assert refs(q="hamza") == [wednesday]
    assert refs(q="سعاد") == [friday]
    assert refs(q="06 12 34 56 78") == [tuesday]
    assert refs(q="+212612345678") == [tuesday]
    assert refs(q=wednesday.lower()) == [wednesday]
    assert refs(q="nobody") == []
    ws.post(f"/appointments/{friday}/status", body={"status": "cancelled"})
    assert refs(status="cancelled") == [friday]
    assert refs(status="booked") == [tuesday, wednesday]
    too_long = ws.get("/agenda", **{"from": "2027-01-08", "to": "2027-04-08"})
    assert too_long.status_code == 422
    backwards = ws.get("/agenda", **{"from": "2027-01-09", "to": "2027-01-08"})
    assert backwards.status_code == 422


# --------------------------------------------------------------------------------- status changes
def test_attendance_is_recorded_from_the_day_of_the_appointment_and_can_be_corrected(ws: Workspace) -> None:
    today = ws.book(starts_at="2027-01-08T15:00")
    later = ws.book(starts_at="2027-01-12T09:00")
    early = ws.post(f"/appointments/{later}/status", body={"status": "attended"})
    assert early.status_code == 409 and "later day" in early.json()["detail"]

    ws.clock(local("2027-01-08T15:20"))
    attended = ws.post(f"/appointments/{today}/status", body={"status": "attended"})
    assert attended.status_code == 200, attended.text
    assert attended.json()["status"] == "attended"
    corrected = ws.post(f"/appointments/{today}/status", body={"status": "no_show"})
    assert corrected.json()["status"] == "no_show"
    # Marking is idempotent: the same mark twice is not an error.
    assert ws.post(f"/appointments/{today}/status", body={"status": "no_show"}).status_code == 200
    # A past appointment cannot be cancelled any more; an unknown status is refused.
    assert ws.post(f"/appointments/{today}/status", body={"status": "cancelled"}).status_code == 409
    assert ws.post(f"/appointments/{today}/status", body={"status": "rescheduled"}).status_code == 422
    with ws.sessions() as session:
        row = session.scalar(select(Appointment).where(Appointment.reference == today))
        assert row is not None and row.status == "no_show"


def test_a_cancellation_frees_the_seat_and_tells_a_whatsapp_person_who_opted_in(ws: Workspace) -> None:
    whatsapp = ws.book(starts_at="2027-01-12T09:00", channel="whatsapp", whatsapp_opt_in=True, language="ary")
    web = ws.book(starts_at="2027-01-12T09:00", channel="web", whatsapp_opt_in=False)
    with ws.sessions() as session:
        session.execute(delete(OutboxMessage))  # the booking confirmations are not this test's subject
        session.commit()
    for reference in (whatsapp, web):
        response = ws.post(f"/appointments/{reference}/status", body={"status": "cancelled"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
    again = ws.post(f"/appointments/{whatsapp}/status", body={"status": "cancelled"})
    assert again.status_code == 409
    with ws.sessions() as session:
        messages = session.scalars(select(OutboxMessage)).all()
        assert [(m.kind, m.status, m.language) for m in messages] == [("cancellation", "pending", "ary")]
        appointment = session.scalar(select(Appointment).where(Appointment.reference == whatsapp))
        assert appointment is not None and messages[0].appointment_id == appointment.id
        assert messages[0].to_phone == session.get(Citizen, appointment.citizen_id).phone  # type: ignore[union-attr]
    # Both seats of 09:00 are free again.
    slots = ws.client.get("/api/v1/agencies/t-ws-a/slots",
                          params={"service": "information_orientation", "from": "2027-01-12", "days": 1}).json()
    assert next(s for s in slots["slots"] if s["time"] == "09:00")["free_seats"] == 2


def test_an_appointment_is_moved_to_a_free_slot_or_stays_put(ws: Workspace) -> None:
    reference = ws.book(AGENCY_B, starts_at="2027-01-12T09:00")
    ws.book(AGENCY_B, starts_at="2027-01-13T10:00")  # agency B has one adviser: 10:00 on Wednesday is full
    slots = ws.get(f"/appointments/{reference}/slots", who="b", **{"from": "2027-01-13", "days": 1})
    assert slots.status_code == 200, slots.text
    times = [s["time"] for s in slots.json()["slots"]]
    assert "10:00" not in times and "09:30" not in times and "11:00" in times
    full = ws.post(f"/appointments/{reference}/reschedule", who="b", body={"starts_at": "2027-01-13T10:00:00+01:00"})
    assert full.status_code == 409
    moved = ws.post(f"/appointments/{reference}/reschedule", who="b", body={"starts_at": "2027-01-13T11:00:00+01:00"})
    assert moved.status_code == 200, moved.text
    assert moved.json() | {"changed_at": None} == moved.json() | {
        "reference": reference, "status": "booked", "date": "2027-01-13", "time": "11:00", "changed_at": None}
    agenda = ws.get("/agenda", who="b").json()["items"]
    assert [(i["reference"], i["time"]) for i in agenda if i["reference"] == reference] == [(reference, "11:00")]


# ------------------------------------------------------------------------------------ handoffs
def test_the_callback_queue_shows_open_requests_first_and_is_taken_and_closed(ws: Workspace) -> None:
    first = ws.handoff(now=NOW - timedelta(hours=3), summary="Première demande : papiers pour l'auto-entrepreneur")
    second = ws.handoff(now=NOW - timedelta(hours=1), reason="complaint", summary="Personne ne répond au téléphone")
    ws.handoff(agency_id=AGENCY_B, summary="not for agency A")
    queue = ws.get("/handoffs")
    assert queue.status_code == 200, queue.text
    assert [(h["id"], h["status"]) for h in queue.json()] == [(first, "open"), (second, "open")]
    assert queue.json()[0]["summary"] == "Première demande : papiers pour l'auto-entrepreneur"
    assert queue.json()[1]["reason"] == "complaint" and queue.json()[1]["phone"].startswith("+2127")

    taken = ws.post(f"/handoffs/{second}/take")
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "taken" and taken.json()["taken_by"] == "Staff a"
    assert [h["id"] for h in ws.get("/handoffs").json()] == [first, second]  # open ones before taken ones
    assert ws.post(f"/handoffs/{second}/take").status_code == 200  # taking it again is harmless
    closed = ws.post(f"/handoffs/{second}/close")
    assert closed.json()["status"] == "closed"
    assert ws.post(f"/handoffs/{second}/take").status_code == 409
    assert [h["id"] for h in ws.get("/handoffs").json()] == [first]
    assert [h["id"] for h in ws.get("/handoffs", status="closed").json()] == [second]
    assert [h["id"] for h in ws.get("/handoffs", status="all").json()] == [first, second]


def test_a_request_naming_a_place_goes_to_the_nearest_agency(ws: Workspace) -> None:
    routed = ws.handoff(agency_id=None, place="Targuist", summary="Bghit n3ref 3la Forsa")
    assert [h["id"] for h in ws.get("/handoffs", who="a").json()] == []
    queue = ws.get("/handoffs", who="b").json()
    assert [(h["id"], h["agency_id"], h["routed"]) for h in queue] == [(routed, AGENCY_B, True)]
    assert ws.post(f"/handoffs/{routed}/take", who="a").status_code == 404
    assert ws.post(f"/handoffs/{routed}/take", who="b").json()["taken_by"] == "Staff b"
    with ws.sessions() as session:
        assert session.get(Handoff, routed).agency_id == AGENCY_B  # type: ignore[union-attr]


def test_a_request_taken_by_a_colleague_cannot_be_taken_again(ws: Workspace, session: Session) -> None:
    colleague = create_staff(session=session, email="sara@anapec.test", full_name="Sara", role="staff",
                             agency_id=AGENCY_A, password=PASSWORD)
    ws.tokens["a2"] = _login(ws.client, colleague.email)
    ws.client.cookies.clear()
    handoff = ws.handoff()
    assert ws.post(f"/handoffs/{handoff}/take").status_code == 200
    refused = ws.post(f"/handoffs/{handoff}/take", who="a2")
    assert refused.status_code == 409 and "already taken" in refused.json()["detail"]
    assert ws.post(f"/handoffs/{handoff}/close", who="a2").json()["taken_by"] == "Staff a"


# -------------------------------------------------------------------------------- live changes
def test_changes_since_the_cursor_bring_new_and_cancelled_bookings(ws: Workspace) -> None:
    cancelled = ws.book(starts_at="2027-01-12T09:00")
    cursor = ws.get("/agenda").json()["cursor"]
    later = NOW + timedelta(minutes=5)
    ws.clock(later)
    new = ws.book(starts_at="2027-01-13T09:00", now=later)
    ws.book(AGENCY_B, starts_at="2027-01-13T09:00", now=later)
    assert ws.post(f"/appointments/{cancelled}/status", body={"status": "cancelled"}).status_code == 200
    handoff = ws.handoff(now=later)
    changes = ws.get("/changes", cursor=cursor)
    assert changes.status_code == 200, changes.text
    body = changes.json()
    assert {(a["reference"], a["status"]) for a in body["appointments"]} == {(new, "booked"), (cancelled, "cancelled")}
    assert [h["id"] for h in body["handoffs"]] == [handoff]
    assert body["cursor"] > cursor
    assert ws.get("/changes", cursor="yesterday").status_code == 422


def _events(stream: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for block in stream.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            found.append((fields["event"], json.loads(fields.get("data", "null"))))
    return found


def test_the_stream_sends_changes_as_server_sent_events(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_router, "STREAM_POLL_SECONDS", 0.05)
    monkeypatch.setattr(staff_router, "STREAM_MAX_SECONDS", 1.0)
    cursor = ws.get("/agenda").json()["cursor"]
    new = ws.book(starts_at="2027-01-13T09:00", now=NOW + timedelta(minutes=1))
    ws.book(AGENCY_B, starts_at="2027-01-13T09:00", now=NOW + timedelta(minutes=1))
    with ws.client.stream("GET", f"{API}/stream", params={"cursor": cursor}, headers=ws.headers("a")) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = _events(text)
    assert events[0][0] == "ready"
    # Sent once, although every read of the stream finds it in the look-back window.
    assert [(kind, data["reference"]) for kind, data in events[1:]] == [("appointment", new)]
    assert "id: " in text and "retry: 3000" in text

    # A session that ends closes the stream.
    ws.client.post("/api/v1/auth/logout", headers=ws.headers("b"))
    refused = ws.client.get(f"{API}/stream", headers=ws.headers("b"))
    assert refused.status_code == 401


def test_the_stream_tells_the_page_when_the_session_ends(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_router, "STREAM_POLL_SECONDS", 0.05)
    monkeypatch.setattr(staff_router, "STREAM_MAX_SECONDS", 30)
    with ws.client.stream("GET", f"{API}/stream", headers=ws.headers("a")) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines) == "event: ready"
        # The session ends while the stream is open (its time is up, or the person logged out elsewhere).
        with ws.sessions() as session:
            session.execute(update(StaffSession).where(StaffSession.staff_id == ws.staff_ids["a"])
                            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            session.commit()
        rest = "\n".join(lines)
    assert [kind for kind, _ in _events(rest)][-1] == "expired"


# ------------------------------------------------------------------------------------- exports
def test_the_agenda_exports_as_csv_for_spreadsheets(ws: Workspace) -> None:
    reference = ws.book(starts_at="2027-01-12T09:00", full_name="=HYPERLINK(x) Salma", notes="café, 2e étage")
    response = ws.get("/agenda.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="agenda-{AGENCY_A}-2027-01-08-2027-01-21.csv"' in response.headers["content-disposition"]
    assert response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert rows[0][:5] == ["date", "time", "end", "reference", "status"]
    assert rows[1][:5] == ["2027-01-12", "09:00", "10:00", reference, "booked"]
    assert rows[1][5] == "'=HYPERLINK(x) Salma"  # a spreadsheet shows it, never runs it
    assert rows[1][6].startswith("+2126")  # phone numbers stay as they are
    assert rows[1][-1] == "café, 2e étage"
    assert ws.get("/agenda.csv", who=None).status_code == 401


def test_the_calendar_feed_has_its_own_revocable_token(ws: Workspace) -> None:
    booked = ws.book(starts_at="2027-01-12T09:00", full_name="Salma Benali", phone="0612345678")
    cancelled = ws.book(starts_at="2027-01-13T09:00")
    ws.post(f"/appointments/{cancelled}/status", body={"status": "cancelled"})
    ws.book(AGENCY_B, starts_at="2027-01-12T09:00", full_name="Karim Other")
    assert ws.get("/feed").json() == {"active": False, "url": None, "created_at": None, "last_used_at": None}
    issued = ws.post("/feed")
    assert issued.status_code == 201
    url = issued.json()["url"]
    assert url.startswith("http://testserver/api/v1/staff/feed/gef_") and url.endswith(".ics")
    path = url.removeprefix("http://testserver")

    feed = ws.client.get(path)  # no session: a calendar app cannot log in
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    body = feed.text
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    unfolded = body.replace("\r\n ", "")
    assert f"UID:{booked}@testserver" in unfolded and "DTSTART:20270112T080000Z" in unfolded
    assert "SUMMARY:Salma B. — Aide au plan d'affaires (business plan)" in unfolded
    assert f"UID:{cancelled}@testserver" in unfolded and "STATUS:CANCELLED" in unfolded
    assert "612345678" not in unfolded and "Benali" not in unfolded  # no phone, no surname
    assert "Karim" not in unfolded  # another agency's
    assert ws.get("/feed").json()["last_used_at"] is not None

    # The feed token is not a session, and a session is not a feed token.
    token = path.removeprefix(f"{API}/feed/").removesuffix(".ics")
    assert ws.client.get(f"{API}/agenda", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert ws.client.get(f"{API}/feed/{ws.tokens['a']}.ics").status_code == 404

    reissued = ws.post("/feed").json()["url"].removeprefix("http://testserver")
    assert ws.client.get(path).status_code == 404 and ws.client.get(reissued).status_code == 200
    assert ws.client.delete(f"{API}/feed", headers=ws.headers("a")).status_code == 204
    assert ws.client.get(reissued).status_code == 404
    assert ws.get("/feed").json()["active"] is False


def test_a_disabled_account_loses_its_calendar_feed(ws: Workspace) -> None:
    path = ws.post("/feed").json()["url"].removeprefix("http://testserver")
    with ws.sessions() as session:
        session.execute(update(StaffUser).where(StaffUser.id == ws.staff_ids["a"]).values(active=False))
        session.commit()
    assert ws.client.get(path).status_code == 404


# ------------------------------------------------------------------------------ sessions, pages
def test_sessions_expire_and_end_at_logout(ws: Workspace) -> None:
    assert ws.get("/agenda").status_code == 200
    with ws.sessions() as session:
        session.execute(update(StaffSession).where(StaffSession.staff_id == ws.staff_ids["a"])
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert ws.get("/agenda").status_code == 401
    assert ws.get("/agenda", who="b").status_code == 200
    assert ws.client.post("/api/v1/auth/logout", headers=ws.headers("b")).status_code == 204
    assert ws.get("/agenda", who="b").status_code == 401


def test_the_cookie_of_the_login_page_opens_the_workspace(ws: Workspace) -> None:
    ws.client.cookies.clear()
    login = ws.client.post("/api/v1/auth/login", json={"email": "nadia@anapec.test", "password": PASSWORD})
    assert login.status_code == 200
    assert ws.client.get(f"{API}/agenda").status_code == 200  # the HttpOnly cookie alone
    ws.client.cookies.clear()
    assert ws.client.get(f"{API}/agenda").status_code == 401


@pytest.mark.parametrize("page", ["/staff/", "/staff/index.html", "/staff/steering.html"])
def test_the_pages_are_served_with_a_strict_content_policy(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script" in response.text and "http://" not in response.text and "https://" not in response.text
