"""Callback requests for a human adviser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from app.models import Agency, Citizen, Handoff
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

URL = "/api/v1/handoffs"


@pytest.fixture
def agency(session_factory: sessionmaker[Session]) -> Iterator[str]:
    with session_factory() as session:
        session.add(Agency(id="t-handoff", name="Agence test", region="Souss-Massa", province="Agadir-Ida-Ou-Tanane",
                           city="Agadir", opening_hours={}, advisers=1, slot_minutes=30, active=True))
        session.commit()
    yield "t-handoff"
    with session_factory() as session:
        session.execute(delete(Handoff))
        session.execute(delete(Agency).where(Agency.id == "t-handoff"))
        session.commit()


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"phone": "07 00 00 00 03", "full_name": "Hanane", "place": "Agadir", "reason": "question",
                            "summary": "Wach Forsa kat3ti flous l machro3 dyal l7lwa?", "language": "ary_latn",
                            "channel": "whatsapp"}
    body.update(overrides)
    return body


def test_a_callback_request_is_recorded_and_open(client: TestClient, service_headers: dict[str, str],
                                                 session: Session, agency: str) -> None:
    response = client.post(URL, json=request(agency_id=agency, reason="complaint"), headers=service_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "open" and body["reason"] == "complaint" and body["agency_id"] == agency
    row = session.get(Handoff, body["id"])
    assert row is not None and row.phone == "+212700000003" and row.summary.startswith("Wach Forsa")
    citizen = session.scalar(select(Citizen).where(Citizen.phone == "+212700000003"))
    assert citizen is not None and row.citizen_id == citizen.id and citizen.full_name == "Hanane"


def test_a_place_is_enough_without_an_agency(client: TestClient, service_headers: dict[str, str]) -> None:
    response = client.post(URL, json=request(place="حي السلام، أكادير"), headers=service_headers)
    assert response.status_code == 201 and response.json()["place"] == "حي السلام، أكادير"


@pytest.mark.parametrize(("change", "reason"), [
    ({"place": None}, "agency_id or place"), ({"reason": "praise"}, "reason"),
    ({"phone": "+4915112345678"}, "Moroccan"), ({"agency_id": "atlantis"}, "unknown agency"),
    ({"language": "de"}, "language"), ({"summary": "x" * 4001}, "summary"),
])
def test_bad_requests_are_422(client: TestClient, service_headers: dict[str, str], change: dict[str, Any],
                              reason: str) -> None:
    response = client.post(URL, json=request(**change), headers=service_headers)
    assert response.status_code == 422 and reason in response.text


def test_the_service_token_is_required(client: TestClient) -> None:
    assert client.post(URL, json=request()).status_code == 401
