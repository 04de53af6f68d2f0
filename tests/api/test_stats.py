"""The steering figures: the funnel from events and appointments, its breakdowns (Casablanca
weeks included, on SQLite and PostgreSQL alike), progress toward 100,000 people, capacity per
agency from opening hours and held seats, and the CSV exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from test_staff import AGENCY_A, AGENCY_B, NOW, Workspace, local, open_workspace

STATS = "/api/v1/stats"
PHONE = "0611223344"


@pytest.fixture
def ws(client: TestClient, session_factory: sessionmaker[Session],
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(client, session_factory, monkeypatch)


def event(ws: Workspace, service_headers: dict[str, str], when: Any, **body: Any) -> None:
    ws.clock(when)
    response = ws.client.post("/api/v1/events", json=body, headers=service_headers)
    assert response.status_code == 201, response.text


@pytest.fixture
def activity(ws: Workspace, service_headers: dict[str, str]) -> Workspace:
    """A week of the plan: five conversations (two around a week's edge, Casablanca time), two
    eligibility checks, six bookings of which two attended (one person twice), one no-show, one
    cancelled and one moved."""
    for channel, language, place in (("whatsapp", "ary_latn", "Agadir"), ("whatsapp", "ary_latn", None),
                                     ("web", "fr", None)):
        event(ws, service_headers, NOW, kind="conversation_started", channel=channel, language=language, place=place)
    event(ws, service_headers, local("2027-01-10T23:30"), kind="conversation_started", channel="web", language="fr")
    event(ws, service_headers, local("2027-01-11T00:30"), kind="conversation_started", channel="web", language="fr")
    event(ws, service_headers, NOW, kind="eligibility_checked", channel="whatsapp", language="ary_latn",
          region="Souss-Massa", segment="idea")
    event(ws, service_headers, NOW, kind="eligibility_checked", channel="web", language="fr")

    morning = ws.book(starts_at="2027-01-08T08:30", service="information_orientation", phone=PHONE,
                      now=NOW - timedelta(days=1))
    afternoon = ws.book(starts_at="2027-01-08T15:00", phone=PHONE)
    absent = ws.book(starts_at="2027-01-08T15:00")
    ws.book(AGENCY_B, starts_at="2027-01-12T09:00", channel="web", whatsapp_opt_in=False)
    cancelled = ws.book(starts_at="2027-01-12T09:00")
    moved = ws.book(starts_at="2027-01-12T10:00")
    ws.clock(NOW)
    assert ws.post(f"/appointments/{cancelled}/status", body={"status": "cancelled"}).status_code == 200
    assert ws.post(f"/appointments/{moved}/reschedule", body={"starts_at": "2027-01-13T11:00:00+01:00"}).status_code \
        == 200
    ws.clock(local("2027-01-08T16:45"))
    for reference, status in ((morning, "attended"), (afternoon, "attended"), (absent, "no_show")):
        assert ws.post(f"/appointments/{reference}/status", body={"status": status}).status_code == 200
    ws.clock(NOW)
    return ws


def stats(ws: Workspace, **params: Any) -> dict[str, Any]:
    response = ws.client.get(STATS, params={"to": "2027-01-17", **params}, headers=ws.headers("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def group(body: dict[str, Any], dimension: str, key: str | None) -> dict[str, Any]:
    return next(g for g in body["by"][dimension] if g["key"] == key)


def counts(found: dict[str, Any]) -> tuple[int, ...]:
    return tuple(found[m] for m in ("conversations", "eligibility_checks", "bookings", "attended", "no_show",
                                    "cancelled"))


def test_the_funnel_counts_each_step_once(activity: Workspace) -> None:
    body = stats(activity)
    assert (body["from_date"], body["to_date"]) == ("2026-10-26", "2027-01-17")
    assert [(s["step"], s["count"], s["rate"]) for s in body["funnel"]] == [
        ("conversations", 5, None), ("eligibility_checks", 2, 0.4), ("bookings", 6, 3.0), ("attended", 2, 0.3333)]
    assert [s["label"] for s in body["funnel"]] == ["Conversations", "Tests d'éligibilité", "Rendez-vous pris",
                                                   "Présents au rendez-vous"]


def test_the_breakdowns_by_region_agency_segment_programme_channel_and_language(activity: Workspace) -> None:
    body = stats(activity)
    assert set(body["by"]) == {"region", "agency", "segment", "program", "channel", "language", "week"}
    souss = group(body, "region", "region-souss-massa")
    assert souss["label"] == "Souss-Massa" and counts(souss) == (1, 1, 5, 2, 1, 1)
    assert counts(group(body, "region", "region-tanger-tetouan-al-hoceima")) == (0, 0, 1, 0, 0, 0)
    unknown = group(body, "region", None)
    assert unknown["label"] == "Non renseigné" and counts(unknown) == (4, 1, 0, 0, 0, 0)
    assert body["by"]["region"][-1]["key"] is None  # what is not known comes last
    assert counts(group(body, "agency", AGENCY_A)) == (0, 0, 5, 2, 1, 1)
    assert group(body, "agency", AGENCY_A)["label"] == "Agence Test A"
    assert counts(group(body, "agency", AGENCY_B)) == (0, 0, 1, 0, 0, 0)
    assert counts(group(body, "segment", "project_holder")) == (0, 0, 6, 2, 1, 1)
    assert group(body, "segment", "idea")["eligibility_checks"] == 1
    assert counts(group(body, "program", "forsa"))[2:] == (6, 2, 1, 1)
    assert counts(group(body, "channel", "whatsapp")) == (2, 1, 5, 2, 1, 1)
    assert counts(group(body, "channel", "web")) == (3, 1, 1, 0, 0, 0)
    assert group(body, "channel", "web")["label"] == "Site web"
    assert counts(group(body, "language", "ary_latn")) == (2, 1, 0, 0, 0, 0)
    assert group(body, "language", "ary_latn")["label"] == "Darija (latin)"
    assert counts(group(body, "language", "fr"))[:3] == (3, 1, 6)


def test_weeks_are_casablanca_weeks_with_every_week_of_the_period(activity: Workspace) -> None:
    weeks = stats(activity)["by"]["week"]
    assert [w["key"] for w in weeks][:2] == ["2026-10-26", "2026-11-02"] and len(weeks) == 12
    # Sunday 23:30 and Monday 00:30 in Casablanca are 22:30 and 23:30 UTC of the same Sunday.
    assert counts(group({"by": {"week": weeks}}, "week", "2027-01-04")) == (4, 2, 6, 2, 1, 1)
    assert counts(group({"by": {"week": weeks}}, "week", "2027-01-11")) == (1, 0, 0, 0, 0, 0)
    assert sum(w["conversations"] for w in weeks) == 5


def test_a_period_narrows_every_figure(activity: Workspace) -> None:
    body = stats(activity, **{"from": "2027-01-11", "to": "2027-01-11"})
    assert [s["count"] for s in body["funnel"]] == [1, 0, 0, 0]
    assert [w["key"] for w in body["by"]["week"]] == ["2027-01-11"]
    # Progress is the plan's, whatever the period.
    assert body["progress"]["accompanied"] == 1
    bad = activity.client.get(STATS, params={"from": "2027-01-12", "to": "2027-01-11"},
                              headers=activity.headers("admin"))
    assert bad.status_code == 422


def test_progress_counts_people_who_came_against_the_target(activity: Workspace) -> None:
    progress = stats(activity)["progress"]
    assert progress | {"note": None} == {"target": 100000, "accompanied": 1, "share": 0.00001, "since": "2023-02-06",
                                         "label": "Personnes accompagnées via l'assistant", "note": None}
    assert "100 000" in progress["note"]


def test_labels_follow_the_language(activity: Workspace) -> None:
    body = stats(activity, lang="ar")
    assert group(body, "region", "region-souss-massa")["label"] == "سوس-ماسة"
    assert body["funnel"][0]["label"] == "المحادثات"
    assert group(body, "channel", "whatsapp")["label"] == "واتساب"


def test_capacity_sets_free_seat_slots_against_held_ones(activity: Workspace) -> None:
    response = activity.client.get(f"{STATS}/capacity", params={"weeks": 2}, headers=activity.headers("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from_date"] == "2027-01-08" and body["weeks"] == 2
    agencies = {a["agency_id"]: a for a in body["agencies"]}
    a, b = agencies[AGENCY_A], agencies[AGENCY_B]
    # Week 1 from Friday 10:00: 6 slots left × 2 advisers; two 60-minute appointments at 15:00 hold 4.
    # Week 2: Monday 11 and Thursday 14 are public holidays; 13 + 13 + 9 slots × 2 advisers; the
    # moved appointment holds 2.
    assert [(w["week_start"], w["available"], w["booked"], w["free"]) for w in a["weeks"]] == [
        ("2027-01-04", 12, 4, 8), ("2027-01-11", 70, 2, 68)]
    assert [(w["available"], w["booked"]) for w in b["weeks"]] == [(6, 0), (35, 2)]
    assert (a["available"], a["booked"], a["rate"]) == (82, 6, round(6 / 82, 4))
    assert a["region"] == "Souss-Massa" and a["hours_verified"] is False
    assert body["totals"][0]["available"] >= 18 and body["totals"][1]["booked"] >= 4
    assert activity.client.get(f"{STATS}/capacity", params={"weeks": 13},
                               headers=activity.headers("admin")).status_code == 422


def test_the_figures_export_as_csv(activity: Workspace) -> None:
    response = activity.client.get(f"{STATS}/export.csv", params={"to": "2027-01-17"},
                                   headers=activity.headers("admin"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert rows[0] == ["dimension", "key", "label", "conversations", "eligibility_checks", "bookings", "attended"]
    assert ["funnel", "bookings", "Rendez-vous pris", "6", "", "", ""] in rows
    assert ["channel", "whatsapp", "WhatsApp", "2", "1", "5", "2"] in rows
    assert ["week", "2027-01-04", "2027-01-04", "4", "2", "6", "2"] in rows
    assert rows[-1] == ["progress", "accompanied", "Personnes accompagnées via l'assistant", "1", "", "", "100000"]

    capacity = activity.client.get(f"{STATS}/capacity.csv", params={"weeks": 2}, headers=activity.headers("admin"))
    rows = list(csv.reader(io.StringIO(capacity.text.removeprefix("\ufeff"))))
    assert rows[0] == ["agency_id", "agency", "region", "week_start", "seat_slots", "booked", "free"]
    assert [AGENCY_A, "Agence Test A", "Souss-Massa", "2027-01-04", "12", "4", "8"] in rows
