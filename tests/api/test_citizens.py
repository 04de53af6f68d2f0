"""Erasing a person: future appointments cancelled first, then name, phone and notes gone from
every table; what remains is anonymous."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from app.models import Agency, Appointment, Citizen, Handoff, IdempotencyRecord, OutboxMessage, StaffSession, StaffUser
from app.models.appointment import SeatHold
from app.services.availability import current_time
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

CASA = ZoneInfo("Africa/Casablanca")
WEEKDAY = [["08:30", "12:30"], ["14:00", "16:30"]]
NOW = datetime(2027, 1, 8, 10, 0, tzinfo=CASA)
PHONE = "+212612345678"


@pytest.fixture
def api(client: TestClient, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with session_factory() as session:
        session.add(Agency(id="t-erase", name="Agence test", region="Oriental", province="Oujda-Angad", city="Oujda",
                           opening_hours={d: WEEKDAY for d in ("mon", "tue", "wed", "thu", "fri")}, advisers=1,
                           slot_minutes=30, active=True))
        session.commit()
    client.app.dependency_overrides[current_time] = lambda: NOW.astimezone(UTC)  # type: ignore[attr-defined]
    yield client
    with session_factory() as session:
        for model in (OutboxMessage, IdempotencyRecord, Handoff, StaffSession, SeatHold, Appointment, Citizen,
                      StaffUser):
            session.execute(delete(model))
        session.execute(delete(Agency).where(Agency.id == "t-erase"))
        session.commit()


def book(client: TestClient, headers: dict[str, str], starts_at: str, **extra: Any) -> dict[str, Any]:
    body = {"full_name": "Karim Alaoui", "phone": "0612345678", "agency_id": "t-erase",
            "service": "information_orientation", "starts_at": starts_at, "language": "ary", "channel": "whatsapp",
            "notes": "chômeur, projet à Oujda", **extra}
    response = client.post("/api/v1/appointments", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()


def test_erasure_cancels_the_future_and_anonymises_the_past(api: TestClient, service_headers: dict[str, str],
                                                            session: Session) -> None:
    past = book(api, service_headers, "2027-01-08T15:00:00+01:00")
    future = book(api, service_headers, "2027-01-12T09:00:00+01:00")
    api.post("/api/v1/handoffs", headers=service_headers, json={
        "phone": PHONE, "full_name": "Karim", "place": "Oujda", "reason": "complaint",
        "summary": "mon numéro est 0612345678", "language": "fr", "channel": "web"})
    someone_else = book(api, service_headers, "2027-01-13T09:00:00+01:00", phone="0700000001", full_name="Autre")
    past_row = session.scalar(select(Appointment).where(Appointment.reference == past["reference"]))
    assert past_row is not None
    session.add(OutboxMessage(kind="confirmation", appointment_id=past_row.id, to_phone=PHONE, language="ary",
                              variables={"1": "Karim"}, due_at=NOW))
    session.commit()
    # Later that day, the first appointment has taken place.
    api.app.dependency_overrides[current_time] = lambda: datetime(2027, 1, 8, 16, 0, tzinfo=CASA)  # type: ignore[attr-defined]

    response = api.delete("/api/v1/citizens/06 12 34 56 78", headers=service_headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"erased": True, "citizen": True, "appointments_cancelled": 1,
                               "appointments_anonymised": 2, "handoffs_anonymised": 1, "notifications_erased": 1}
    session.expire_all()
    assert session.scalar(select(Citizen).where(Citizen.phone == PHONE)) is None
    rows = {a.reference: a for a in session.scalars(select(Appointment))}
    assert rows[future["reference"]].status == "cancelled" and rows[past["reference"]].status == "booked"
    for ref in (past["reference"], future["reference"]):
        assert rows[ref].citizen_id is None and rows[ref].notes is None
    assert rows[someone_else["reference"]].citizen_id is not None  # nobody else is touched
    handoff = session.scalars(select(Handoff)).one()
    assert (handoff.phone, handoff.full_name, handoff.summary, handoff.citizen_id) == (None, None, "", None)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # The replay records held the name and phone too.
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
    # The cancelled future appointment gave its seat back.
    assert session.scalar(select(func.count()).select_from(SeatHold).where(
        SeatHold.appointment_id == rows[future["reference"]].id)) == 0
    public = api.get(f"/api/v1/appointments/{past['reference']}", headers=service_headers).json()
    assert public["full_name"] is None and public["phone"] is None and public["notes"] is None
    assert api.get("/api/v1/appointments", params={"phone": PHONE}, headers=service_headers).json() == []
    assert api.delete(f"/api/v1/citizens/{PHONE}", headers=service_headers).status_code == 404


def test_a_person_known_only_from_a_callback_request_can_be_erased(api: TestClient, service_headers: dict[str, str],
                                                                   session: Session) -> None:
    api.post("/api/v1/handoffs", headers=service_headers, json={
        "phone": "0700000002", "place": "Berkane", "summary": "question", "language": "ar", "channel": "whatsapp"})
    response = api.delete("/api/v1/citizens/+212700000002", headers=service_headers)
    assert response.status_code == 200
    assert response.json()["handoffs_anonymised"] == 1 and response.json()["appointments_anonymised"] == 0
    assert session.scalar(select(func.count()).select_from(Citizen)) == 0


def test_unknown_invalid_or_unauthenticated(api: TestClient, service_headers: dict[str, str]) -> None:
    unknown = api.delete("/api/v1/citizens/0699999999", headers=service_headers)
    assert unknown.status_code == 404 and "no data" in unknown.json()["detail"]
    invalid = api.delete("/api/v1/citizens/12345", headers=service_headers)
    assert invalid.status_code == 422 and "phone" in invalid.json()["detail"]
    assert api.delete("/api/v1/citizens/0612345678").status_code == 401
