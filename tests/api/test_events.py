"""Conversation events from the action server: the service token only, codes only (no personal
data is accepted or kept), places resolved to gazetteer ids in any spelling or script."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from app.models import Event
from app.services.availability import current_time
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

URL = "/api/v1/events"
NOW = datetime(2027, 1, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def api(client: TestClient, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    client.app.dependency_overrides[current_time] = lambda: NOW  # type: ignore[attr-defined]
    yield client
    with session_factory() as session:
        session.execute(delete(Event))
        session.commit()


def stored(session: Session) -> list[dict[str, Any]]:
    columns = ("kind", "channel", "language", "region_id", "province_id", "agency_id", "segment", "program_id")
    return [{c: getattr(e, c) for c in columns} for e in session.scalars(select(Event).order_by(Event.id))]


def test_a_conversation_start_is_recorded(api: TestClient, service_headers: dict[str, str], session: Session) -> None:
    response = api.post(URL, json={"kind": "conversation_started", "channel": "whatsapp", "language": "ary_latn"},
                        headers=service_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "conversation_started" and body["occurred_at"] == "2027-01-08T09:00:00Z"
    assert stored(session) == [{"kind": "conversation_started", "channel": "whatsapp", "language": "ary_latn",
                                "region_id": None, "province_id": None, "agency_id": None, "segment": None,
                                "program_id": None}]


@pytest.mark.parametrize(("fields", "region", "province"), [
    ({"place": "tanja"}, "region-tanger-tetouan-al-hoceima", "prefecture-tanger-assilah"),
    ({"place": "ana f casa"}, "region-casablanca-settat", "prefecture-casablanca"),
    ({"region": "Souss-Massa"}, "region-souss-massa", None),
    ({"region": "region-fes-meknes", "place": "Fès"}, "region-fes-meknes", "prefecture-fes"),
    ({"province": "Al Hoceïma"}, "region-tanger-tetouan-al-hoceima", "province-al-hoceima"),
    ({"agency_id": "agadir"}, "region-souss-massa", "prefecture-agadir-ida-outanane"),
    ({"place": "bla bla"}, None, None),
])
def test_places_become_gazetteer_ids(api: TestClient, service_headers: dict[str, str], session: Session,
                                     fields: dict[str, str], region: str | None, province: str | None) -> None:
    response = api.post(URL, json={"kind": "eligibility_checked", "channel": "web", "language": "fr", **fields},
                        headers=service_headers)
    assert response.status_code == 201, response.text
    [event] = stored(session)
    assert (event["region_id"], event["province_id"]) == (region, province)
    # The words the person wrote are never kept.
    assert "place" not in response.json()


def test_segment_and_programme_are_recorded_for_the_breakdowns(api: TestClient, service_headers: dict[str, str],
                                                               session: Session) -> None:
    body = {"kind": "eligibility_checked", "channel": "whatsapp", "language": "ar", "segment": "idea",
            "program": "forsa"}
    assert api.post(URL, json=body, headers=service_headers).status_code == 201
    assert stored(session)[0] | {"segment": "idea", "program_id": "forsa"} == stored(session)[0]


@pytest.mark.parametrize("body", [
    {"kind": "message_sent"},
    {"kind": "conversation_started", "phone": "+212612345678"},
    {"kind": "conversation_started", "sender_id": "whatsapp:+212612345678"},
    {"kind": "conversation_started", "full_name": "Salma"},
    {"kind": "conversation_started", "channel": "telegram"},
    {"kind": "conversation_started", "language": "en"},
    {"kind": "conversation_started", "segment": "Salma Benali 0612345678"},
    {"kind": "conversation_started", "region": "Atlantide"},
    {"kind": "conversation_started", "province": "Nulle part"},
    {"kind": "conversation_started", "agency_id": "no-such-agency"},
    {"kind": "conversation_started", "program": "lottery"},
])
def test_anything_but_codes_is_refused(api: TestClient, service_headers: dict[str, str], session: Session,
                                       body: dict[str, str]) -> None:
    response = api.post(URL, json=body, headers=service_headers)
    assert response.status_code == 422
    assert stored(session) == []


def test_only_the_service_token_is_accepted(api: TestClient, session: Session) -> None:
    body = {"kind": "conversation_started"}
    assert api.post(URL, json=body).status_code == 401
    assert api.post(URL, json=body, headers={"Authorization": "Bearer not-the-token"}).status_code == 401
    assert stored(session) == []
