"""Who may read and change what, on every endpoint of the ws, the steering figures and
the events: anonymous callers get 401; a staff member of another agency can neither read nor
change agency A's appointments and callback requests (404 on A's items, 403 when asking for A's
lists, and A's data absent from their own lists); agency A's staff and admins can; only admins
read the steering figures; only the action server posts events.

The matrix is checked against the OpenAPI paths, so a new endpoint cannot be left out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from app.models import Appointment, Handoff
from app.routers import staff as staff_router
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_staff import AGENCY_A, AGENCY_B, API, Workspace, open_workspace

CALLERS = ("anonymous", "staff_a", "staff_b", "admin")


@pytest.fixture
def ws(client: TestClient, session_factory: sessionmaker[Session],
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(client, session_factory, monkeypatch)

WHO = {"anonymous": None, "staff_a": "a", "staff_b": "b", "admin": "admin"}


@dataclass(frozen=True)
class Data:
    ref_a: str
    ref_b: str
    handoff_a: int
    handoff_b: int

    def marks_a(self, text: str) -> bool:
        return self.ref_a in text or "handoff of agency A" in text

    def marks_b(self, text: str) -> bool:
        return self.ref_b in text or "handoff of agency B" in text


def make_data(ws: Workspace) -> Data:
    return Data(ref_a=ws.book(AGENCY_A, starts_at="2027-01-12T09:00", full_name="Alia Agence-A"),
                ref_b=ws.book(AGENCY_B, starts_at="2027-01-12T09:00", full_name="Bilal Agence-B"),
                handoff_a=ws.handoff(agency_id=AGENCY_A, summary="handoff of agency A"),
                handoff_b=ws.handoff(agency_id=AGENCY_B, summary="handoff of agency B"))


Call = Callable[[Workspace, Data, str | None, dict[str, str]], httpx.Response]


def _get(path: str) -> Call:
    def call(ws: Workspace, data: Data, who: str | None, params: dict[str, str]) -> httpx.Response:
        return ws.client.get(API + path.format(d=data), params=params, headers=ws.headers(who))
    return call


def _post(path: str, body: dict[str, Any] | None = None) -> Call:
    def call(ws: Workspace, data: Data, who: str | None, params: dict[str, str]) -> httpx.Response:
        return ws.client.post(API + path.format(d=data), json=body, params=params, headers=ws.headers(who))
    return call


def _stream(ws: Workspace, data: Data, who: str | None, params: dict[str, str]) -> httpx.Response:
    # The stream starts from before the data was written, so it replays it.
    with ws.client.stream("GET", f"{API}/stream", params={"cursor": "2027-01-08T08:00:00+00:00", **params},
                          headers=ws.headers(who)) as response:
        response.read()
        return response


# Lists: staff get their own agency's rows, 403 for another agency's, admins everything.
LISTS: dict[str, tuple[str, Call]] = {
    "agenda": ("GET /api/v1/staff/agenda", _get("/agenda")),
    "agenda.csv": ("GET /api/v1/staff/agenda.csv", _get("/agenda.csv")),
    "handoffs": ("GET /api/v1/staff/handoffs", _get("/handoffs")),
    "changes": ("GET /api/v1/staff/changes", lambda ws, d, who, p: _get("/changes")(
        ws, d, who, {"cursor": "2027-01-08T08:00:00+00:00", **p})),
    "stream": ("GET /api/v1/staff/stream", _stream),
}
# Items of agency A: another agency's staff find nothing there (404), and change nothing.
ITEMS: dict[str, tuple[str, Call]] = {
    "status": ("POST /api/v1/staff/appointments/{reference}/status",
               _post("/appointments/{d.ref_a}/status", {"status": "cancelled"})),
    "slots": ("GET /api/v1/staff/appointments/{reference}/slots",
              lambda ws, d, who, p: _get("/appointments/{d.ref_a}/slots")(ws, d, who, {"from": "2027-01-13", **p})),
    "reschedule": ("POST /api/v1/staff/appointments/{reference}/reschedule",
                   _post("/appointments/{d.ref_a}/reschedule", {"starts_at": "2027-01-13T11:00:00+01:00"})),
    "take": ("POST /api/v1/staff/handoffs/{handoff_id}/take", _post("/handoffs/{d.handoff_a}/take")),
    "close": ("POST /api/v1/staff/handoffs/{handoff_id}/close", _post("/handoffs/{d.handoff_a}/close")),
}
# The caller's own calendar subscription: any logged-in staff member, nobody else.
OWN: dict[str, tuple[str, Call]] = {
    "feed status": ("GET /api/v1/staff/feed", _get("/feed")),
    "feed issue": ("POST /api/v1/staff/feed", _post("/feed")),
    "feed revoke": ("DELETE /api/v1/staff/feed", lambda ws, d, who, p: ws.client.delete(
        f"{API}/feed", headers=ws.headers(who))),
}
# The steering figures: admins only.
ADMIN: dict[str, tuple[str, Call]] = {
    "stats": ("GET /api/v1/stats", lambda ws, d, who, p: ws.client.get("/api/v1/stats", headers=ws.headers(who))),
    "stats.csv": ("GET /api/v1/stats/export.csv",
                  lambda ws, d, who, p: ws.client.get("/api/v1/stats/export.csv", headers=ws.headers(who))),
    "capacity": ("GET /api/v1/stats/capacity",
                 lambda ws, d, who, p: ws.client.get("/api/v1/stats/capacity", headers=ws.headers(who))),
    "capacity.csv": ("GET /api/v1/stats/capacity.csv",
                     lambda ws, d, who, p: ws.client.get("/api/v1/stats/capacity.csv", headers=ws.headers(who))),
}
# Checked in their own tests below: the feed (its token, not a session) and events (service token).
OTHERS = {"GET /api/v1/staff/feed/{token}.ics", "POST /api/v1/events"}


def test_the_matrix_covers_every_endpoint_of_the_workspace_and_steering(client: TestClient) -> None:
    declared = {f"{method.upper()} {path}" for path, operations in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
                for method in operations if path.startswith(("/api/v1/staff", "/api/v1/stats", "/api/v1/events"))}
    covered = {spec[0] for table in (LISTS, ITEMS, OWN, ADMIN) for spec in table.values()} | OTHERS
    assert declared == covered


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_router, "STREAM_POLL_SECONDS", 0.05)
    monkeypatch.setattr(staff_router, "STREAM_MAX_SECONDS", 0.5)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(LISTS))
def test_lists_show_only_the_callers_agency(ws: Workspace, short_streams: None, name: str, caller: str) -> None:
    data = make_data(ws)
    call = LISTS[name][1]
    who = WHO[caller]
    response = call(ws, data, who, {})
    if caller == "anonymous":
        assert response.status_code == 401
        assert call(ws, data, None, {"agency": AGENCY_A}).status_code == 401
        return
    assert response.status_code == 200, response.text
    text = response.text
    if caller == "staff_a":
        assert data.marks_a(text) and not data.marks_b(text)
    elif caller == "staff_b":
        assert data.marks_b(text) and not data.marks_a(text)
        asking = call(ws, data, who, {"agency": AGENCY_A})
        assert asking.status_code == 403 and not data.marks_a(asking.text)
    else:
        assert data.marks_a(text) and data.marks_b(text)
        narrowed = call(ws, data, who, {"agency": AGENCY_A})
        assert narrowed.status_code == 200 and data.marks_a(narrowed.text) and not data.marks_b(narrowed.text)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(ITEMS))
def test_another_agencys_items_cannot_be_read_or_changed(ws: Workspace, name: str, caller: str) -> None:
    data = make_data(ws)
    with ws.sessions() as session:
        before = (session.scalar(select(Appointment.status).where(Appointment.reference == data.ref_a)),
                  session.get(Handoff, data.handoff_a).status)  # type: ignore[union-attr]
    response = ITEMS[name][1](ws, data, WHO[caller], {})
    with ws.sessions() as session:
        after = (session.scalar(select(Appointment.status).where(Appointment.reference == data.ref_a)),
                 session.get(Handoff, data.handoff_a).status)  # type: ignore[union-attr]
    expected = {"anonymous": 401, "staff_b": 404, "staff_a": 200, "admin": 200}[caller]
    assert response.status_code == expected, response.text
    if expected != 200:
        assert after == before
        # The refusal echoes at most what the caller sent: nothing of the person or the request.
        for secret in ("Alia", "Agence Test A", "handoff of agency A", "+2126"):
            assert secret not in response.text
    elif name in ("status", "take", "close"):
        assert after != before


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(OWN))
def test_the_calendar_subscription_is_the_callers_own(ws: Workspace, name: str, caller: str) -> None:
    data = make_data(ws)
    response = OWN[name][1](ws, data, WHO[caller], {})
    if caller == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(ADMIN))
def test_the_steering_figures_are_for_admins(ws: Workspace, name: str, caller: str) -> None:
    data = make_data(ws)
    response = ADMIN[name][1](ws, data, WHO[caller], {})
    assert response.status_code == {"anonymous": 401, "staff_a": 403, "staff_b": 403, "admin": 200}[caller]


def test_each_calendar_feed_shows_its_owners_agency_only(ws: Workspace) -> None:
    data = make_data(ws)
    feeds = {who: ws.post("/feed", who=who).json()["url"].removeprefix("http://testserver")
             for who in ("a", "b")}
    feed_a, feed_b = (ws.client.get(feeds[who]).text.replace("\r\n ", "") for who in ("a", "b"))
    assert data.ref_a in feed_a and data.ref_b not in feed_a
    assert data.ref_b in feed_b and data.ref_a not in feed_b
    # Guessing is no way in: an unknown token is the same 404 as a revoked one.
    assert ws.client.get(f"{API}/feed/gef_guess.ics").status_code == 404
    assert ws.client.get(f"{API}/feed/{ws.tokens['admin']}.ics").status_code == 404


@pytest.mark.parametrize("caller", CALLERS)
def test_only_the_action_server_posts_events(ws: Workspace, service_headers: dict[str, str], caller: str) -> None:
    body = {"kind": "conversation_started", "channel": "web", "language": "fr"}
    response = ws.client.post("/api/v1/events", json=body, headers=ws.headers(WHO[caller]))
    assert response.status_code == 401
    assert ws.client.post("/api/v1/events", json=body, headers=service_headers).status_code == 201


@pytest.mark.parametrize("page", ["/staff/", "/staff/steering.html"])
def test_the_pages_hold_no_data_until_the_api_says_who_is_asking(ws: Workspace, page: str) -> None:
    data = make_data(ws)
    shell = ws.client.get(page)
    assert shell.status_code == 200
    assert not data.marks_a(shell.text) and not data.marks_b(shell.text) and "Alia" not in shell.text
    # What the pages read first, anonymously.
    assert ws.client.get("/api/v1/auth/me").status_code == 401
    assert ws.client.get(f"{API}/agenda").status_code == 401
    assert ws.client.get("/api/v1/stats").status_code == 401
