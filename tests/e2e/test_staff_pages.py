"""The agency workspace and the steering dashboard in a real browser (system Chromium through
Playwright) against the backend of the `stack` fixture: login, the agenda, attendance, a
cancellation, a move, live updates without reloading, the callback queue, exports and the
calendar feed, Arabic right-to-left, and the steering charts. Screenshots go to
test-artifacts/staff/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from browser import CONTRAST_SCRIPT, DESKTOP, PHONE, UNNAMED_SCRIPT, launch, new_page
from stack import ROOT, Stack

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "test-artifacts" / "staff"
PASSWORD = "correct horse battery staple"
AGENCY, OTHER = "rabat", "tetouan"
CASA = ZoneInfo("Africa/Casablanca")
LIVE_MS = 20_000
# The machine that runs the tests may be busy: a slow answer is not a wrong one.
TIMEOUT = 30.0


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=TIMEOUT, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, timeout=TIMEOUT, **kwargs)


@dataclass
class World:
    """What the tests find in the database: three accounts and a day of the agency."""

    stack: Stack
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    emails: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    phones: Iterator[int] = field(default_factory=lambda: iter(range(int(uuid.uuid4().int % 10**7), 10**9)))

    @property
    def api(self) -> str:
        return f"{self.stack.backend_url}/api/v1"

    @property
    def service(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stack.service_token}"}

    def phone(self) -> str:
        return f"06{next(self.phones) % 10**8:08d}"

    def name(self, key: str, text: str) -> str:
        self.names[key] = f"{text} {self.run}"
        return self.names[key]

    def create_staff(self, who: str, role: str, agency: str | None) -> None:
        """Through the operators' command, as in production (the password from the environment)."""
        email = f"{who}-{self.run}@anapec.test"
        args = [sys.executable, "-m", "app.cli", "create-staff", "--email", email, "--name", f"Agent {who.title()}",
                "--role", role, "--password-env", "GE_E2E_STAFF_PASSWORD"] + (["--agency", agency] if agency else [])
        env = {**os.environ, "DATABASE_URL": self.stack.database_url, "GE_E2E_STAFF_PASSWORD": PASSWORD}
        subprocess.run(args, cwd=ROOT / "api", env=env, check=True, capture_output=True)
        self.emails[who] = email

    def slots(self, agency: str, count: int) -> list[str]:
        response = get(f"{self.api}/agencies/{agency}/slots",
                             params={"service": "information_orientation", "days": 14})
        response.raise_for_status()
        return [s["starts_at"] for s in response.json()["slots"][-count:]]

    def book(self, key: str, agency: str, starts_at: str, full_name: str, **extra: Any) -> str:
        body = {"full_name": self.name(key, full_name), "phone": self.phone(), "agency_id": agency,
                "service": "information_orientation", "starts_at": starts_at, "language": "fr", "channel": "web",
                "segment": "project_holder", "program": "forsa", **extra}
        response = post(f"{self.api}/appointments", json=body,
                              headers={**self.service, "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        self.refs[key] = response.json()["reference"]
        return self.refs[key]

    def book_earlier_today(self, key: str, full_name: str) -> None:
        """An appointment that has already started today: the booking API refuses the past, so
        it is written straight into the stack's database."""
        sys.path.insert(0, str(ROOT / "api"))
        from app.core.db import make_engine
        from app.models import Appointment, Citizen
        from app.services.appointments import new_reference
        from sqlalchemy.orm import Session

        now = datetime.now(UTC)
        midnight = datetime.combine(now.astimezone(CASA).date(), datetime.min.time(), CASA).astimezone(UTC)
        starts_at = max(midnight + timedelta(minutes=1), now - timedelta(minutes=30)).replace(microsecond=0)
        engine = make_engine(self.stack.database_url)
        with Session(engine) as session:
            citizen = Citizen(phone=f"+2126{next(self.phones) % 10**8:08d}", full_name=self.name(key, full_name),
                              language="ary", channel="whatsapp", whatsapp_opt_in_at=now, created_at=now)
            session.add(citizen)
            session.flush()
            appointment = Appointment(
                reference=new_reference(), citizen_id=citizen.id, agency_id=AGENCY,
                service_id="information_orientation", starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30),
                seat=1, status="booked", language="ary", channel="whatsapp", segment="auto_entrepreneur",
                program_id="auto_entrepreneur", created_at=now, updated_at=now)
            session.add(appointment)
            session.commit()
            self.refs[key] = appointment.reference
        engine.dispose()

    def expire_sessions(self, who: str) -> None:
        """What the clock does after STAFF_SESSION_MINUTES, done now."""
        sys.path.insert(0, str(ROOT / "api"))
        from app.core.db import make_engine
        from app.models import StaffSession, StaffUser
        from sqlalchemy import select, update
        from sqlalchemy.orm import Session

        engine = make_engine(self.stack.database_url)
        with Session(engine) as session:
            staff_id = session.scalar(select(StaffUser.id).where(StaffUser.email == self.emails[who]))
            session.execute(update(StaffSession).where(StaffSession.staff_id == staff_id)
                            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            session.commit()
        engine.dispose()


@pytest.fixture(scope="module")
def world(stack: Stack) -> World:
    world = World(stack)
    world.create_staff("agent", "staff", AGENCY)
    world.create_staff("other", "staff", OTHER)
    world.create_staff("admin", "admin", None)
    world.book_earlier_today("today", "Amina Essaidi")
    cancel_at, move_at = world.slots(AGENCY, 2)
    world.book("cancel", AGENCY, cancel_at, "Salma Benali", channel="whatsapp", whatsapp_opt_in=True)
    world.book("move", AGENCY, move_at, "Youssef Alami")
    world.book("other", OTHER, world.slots(OTHER, 1)[0], "Karim Autre")
    handoff = {"phone": world.phone(), "full_name": world.name("handoff", "Hanane"), "agency_id": AGENCY,
               "reason": "question", "language": "ary_latn", "channel": "whatsapp",
               "summary": "Bghit n3ref wach Forsa kat3ti flous l machro3 dyal l7lwa f Rabat."}
    assert post(f"{world.api}/handoffs", json=handoff, headers=world.service).status_code == 201
    events = (("whatsapp", "ary_latn", "conversation_started"), ("whatsapp", "ar", "conversation_started"),
              ("web", "fr", "conversation_started"), ("web", "fr", "conversation_started"),
              ("whatsapp", "ary_latn", "eligibility_checked"), ("web", "fr", "eligibility_checked"))
    for channel, language, kind in events:
        event = {"kind": kind, "channel": channel, "language": language, "place": "Rabat"}
        assert post(f"{world.api}/events", json=event, headers=world.service).status_code == 201
    return world


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def part(page: Page, selector: str, name: str) -> None:
    """One region of a long page, at full size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).first.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def login(page: Page, world: World, who: str, path: str = "/staff/") -> None:
    page.goto(f"{world.stack.backend_url}{path}")
    expect(page.locator("#login-view")).to_be_visible()
    page.fill("#login-email", world.emails[who])
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#app-view")).to_be_visible()


def row(page: Page, world: World, key: str) -> Any:
    return page.locator(f"#appt-{world.refs[key]}")


def staff_token(world: World, who: str) -> dict[str, str]:
    response = post(f"{world.api}/auth/login", json={"email": world.emails[who], "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def accessible(page: Page) -> None:
    assert page.evaluate(CONTRAST_SCRIPT) == []
    assert page.evaluate(UNNAMED_SCRIPT) == []


def test_login_opens_the_agenda_of_the_agency(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        page.goto(f"{world.stack.backend_url}/staff/")
        expect(page.locator("#login-view")).to_be_visible()
        shot(page, "login-fr")
        page.fill("#login-email", world.emails["agent"])
        page.fill("#login-password", "not the password")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
        page.fill("#login-password", PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(page.locator("#app-view")).to_be_visible()
        expect(page.locator("#agency-title")).to_have_text("Agence ANAPEC Rabat")
        today = row(page, world, "today")
        expect(today).to_contain_text(world.names["today"])
        expect(today).to_contain_text("Auto-entrepreneur")
        expect(today).to_contain_text("Darija (arabe)")
        expect(today).to_contain_text(world.refs["today"])
        expect(row(page, world, "cancel")).to_contain_text("WhatsApp accepté")
        expect(row(page, world, "move")).to_contain_text(world.names["move"])
        expect(page.locator("#agenda")).not_to_contain_text(world.names["other"])
        expect(page.locator("#live")).to_be_visible()
        expect(page.locator("#live")).to_contain_text("En direct")
        accessible(page)
        shot(page, "agenda-fr")

        # Search and filter by day.
        page.fill("#f-q", world.names["move"].split()[0])
        expect(row(page, world, "today")).to_have_count(0)
        expect(row(page, world, "move")).to_be_visible()
        page.fill("#f-q", "")
        page.click("#f-today")
        expect(row(page, world, "today")).to_be_visible()
        expect(row(page, world, "move")).to_have_count(0)


def test_attendance_and_a_cancellation_are_recorded(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "agent")
        today = row(page, world, "today")
        today.locator("[data-action=attended]").click()
        expect(today.locator(".badge")).to_have_text("Présent")
        expect(today.locator("[data-action=attended]")).to_have_attribute("aria-pressed", "true")

        cancelled = row(page, world, "cancel")
        cancelled.locator("[data-action=cancel]").click()
        dialog = page.locator("#cancel-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(world.names["cancel"])
        shot(page, "cancel-dialog", full_page=False)
        dialog.locator("button[value=confirm]").click()
        expect(cancelled.locator(".badge")).to_have_text("Annulé")
        expect(cancelled.locator("[data-action=cancel]")).to_have_count(0)
        shot(page, "agenda-after-marks")

    agenda = get(f"{world.api}/staff/agenda", headers=staff_token(world, "agent")).json()["items"]
    statuses = {item["reference"]: item["status"] for item in agenda}
    assert statuses[world.refs["today"]] == "attended"
    assert statuses[world.refs["cancel"]] == "cancelled"


def test_an_appointment_moves_to_a_free_slot(browser: Browser, world: World) -> None:
    token = staff_token(world, "agent")

    def starts_at() -> str:
        items = get(f"{world.api}/staff/agenda", headers=token).json()["items"]
        return str(next(i["starts_at"] for i in items if i["reference"] == world.refs["move"]))

    before = starts_at()
    with new_page(browser) as page:
        login(page, world, "agent")
        row(page, world, "move").locator("[data-action=move]").click()
        dialog = page.locator("#move-dialog")
        expect(dialog.locator(".slot").first).to_be_visible()
        shot(page, "move-dialog", full_page=False)
        # The dialog opens on the appointment's day: any other time of it.
        choice = dialog.locator(f".slot:not([data-starts-at='{before}'])").first
        target = choice.get_attribute("data-starts-at")
        choice.click()
        expect(dialog).to_be_hidden()
        moved = row(page, world, "move")
        expect(moved.locator(".time")).to_have_text(str(target)[11:16])
        expect(page.locator("#toast")).to_contain_text("déplacé")
    assert starts_at() == target != before


def test_new_and_cancelled_bookings_appear_without_reloading(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "agent")
        expect(page.locator("#live")).to_be_visible()
        expect(page.locator("#live")).to_contain_text("En direct")
        page.evaluate("window.__sameDocument = true")
        reference = world.book("live", AGENCY, world.slots(AGENCY, 4)[0], "Nouvelle Personne")
        fresh = row(page, world, "live")
        expect(fresh).to_be_visible(timeout=LIVE_MS)
        expect(page.locator("#toast")).to_contain_text(world.names["live"])
        shot(page, "agenda-live")
        cancelled = post(f"{world.api}/appointments/{reference}/cancel", json={}, headers=world.service)
        assert cancelled.status_code == 200, cancelled.text
        expect(fresh.locator(".badge")).to_have_text("Annulé", timeout=LIVE_MS)
        assert page.evaluate("window.__sameDocument") is True  # never reloaded


def test_the_callback_queue_is_taken_and_closed(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "agent")
        page.click("#tab-handoffs")
        card = page.locator(".handoff", has_text=world.names["handoff"])
        expect(card).to_be_visible()
        expect(card).to_contain_text("Bghit n3ref wach Forsa")
        expect(page.locator("#handoff-count")).not_to_be_empty()
        accessible(page)
        shot(page, "handoffs-fr")
        card.locator("[data-action=take]").click()
        expect(card).to_contain_text("Prise par Agent Agent")
        expect(card.locator(".badge-htaken")).to_be_visible()
        card.locator("[data-action=close]").click()
        expect(card).to_have_count(0)
        page.check("#show-closed")
        expect(page.locator(".handoff", has_text=world.names["handoff"])).to_contain_text("Close")


def test_arabic_is_right_to_left(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "agent")
        page.click("#lang-switch")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        expect(page.locator("#tab-agenda")).to_have_text("المواعيد")
        expect(page.locator("#agency-title")).to_have_text("وكالة أنابيك الرباط")
        expect(row(page, world, "move")).to_contain_text("حامل مشروع")
        header = page.locator(".agenda-table thead th").first.bounding_box()
        last = page.locator(".agenda-table thead th").last.bounding_box()
        assert header and last and header["x"] > last["x"], "the first column is on the right in Arabic"
        accessible(page)
        shot(page, "agenda-ar")
        page.set_viewport_size(PHONE)
        shot(page, "agenda-phone-ar")
        page.set_viewport_size(DESKTOP)
        page.click("#lang-switch")  # back to French for the next tests (the choice is remembered)
        expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_the_agenda_exports_and_the_calendar_feed(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "agent")
        page.click("#tab-export")
        href = page.locator("#export-csv").get_attribute("href") or ""
        csv = page.request.get(f"{world.stack.backend_url}{href}")
        assert csv.ok and csv.headers["content-type"].startswith("text/csv")
        assert world.refs["today"] in csv.text() and world.names["other"] not in csv.text()
        page.click("#feed-create")
        url = page.locator("#feed-url")
        expect(url).to_have_value(re.compile(r"/api/v1/staff/feed/gef_.+\.ics$"))
        shot(page, "export-fr")
        feed = get(url.input_value())  # what a calendar app does: no cookie, no login
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert f"UID:{world.refs['today']}@" in feed.text.replace("\r\n ", "")
        page.click("#feed-revoke")
        expect(page.locator("#feed-status")).to_contain_text("Aucun lien actif")
        assert get(str(feed.url)).status_code == 404


def test_logout_and_an_expired_session_lead_back_to_the_login_form(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "agent")
        page.click("#logout")
        expect(page.locator("#login-view")).to_be_visible()
        expect(page.locator("#agenda")).to_have_count(1)
        expect(page.locator("#app-view")).to_be_hidden()

        login(page, world, "agent")
        expect(page.locator("#live")).to_be_visible()  # the stream is open
        world.expire_sessions("agent")
        # The live stream notices within seconds, without any click.
        expect(page.locator("#login-error")).to_have_text("Votre session a expiré : reconnectez-vous.",
                                                          timeout=LIVE_MS)
        expect(page.locator("#app-view")).to_be_hidden()
        page.fill("#login-email", world.emails["agent"])
        page.fill("#login-password", PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(row(page, world, "move")).to_be_visible()


def test_staff_of_another_agency_see_none_of_it(browser: Browser, world: World) -> None:
    with new_page(browser) as page:
        login(page, world, "other")
        expect(row(page, world, "other")).to_be_visible()
        agenda = page.locator("#agenda")
        for key in ("today", "cancel", "move"):
            expect(agenda).not_to_contain_text(world.names[key])
        page.click("#tab-handoffs")
        expect(page.locator("#handoffs")).not_to_contain_text(world.names["handoff"])
        page.goto(f"{world.stack.backend_url}/staff/steering.html")
        expect(page.locator("#not-admin")).to_be_visible()
        expect(page.locator("#dashboard")).to_be_hidden()


def test_the_steering_dashboard_draws_the_funnel_and_capacity(browser: Browser, world: World) -> None:
    with new_page(browser, viewport={"width": 1280, "height": 900}) as page:
        login(page, world, "admin", "/staff/steering.html")
        expect(page.locator("#dashboard")).to_be_visible()
        funnel = page.locator("#funnel svg[role=img]")
        expect(funnel).to_be_visible()
        expect(funnel.locator("title")).to_have_text("Entonnoir")
        description = funnel.locator("desc").text_content() or ""
        assert "Conversations" in description and "Rendez-vous pris" in description
        expect(page.locator("#funnel rect")).to_have_count(4)
        expect(page.locator("#progress svg[role=img]")).to_be_visible()
        expect(page.locator("#progress")).to_contain_text("100")
        expect(page.locator("#weekly svg polyline")).to_have_count(4)
        expect(page.locator("#breakdowns section")).to_have_count(6)
        expect(page.locator("[data-dimension=channel] svg[role=img]")).to_be_visible()
        expect(page.locator("#capacity tr[data-agency=rabat]")).to_be_visible()
        page.locator("[data-dimension=region] summary").click()
        expect(page.locator("[data-dimension=region] table")).to_contain_text("Rabat")
        rows = page.locator("#capacity tbody tr")
        expect(rows).to_have_count(13)  # the network's total and the 12 busiest agencies
        page.click("#capacity .show-all")
        assert rows.count() > 13
        page.click("#capacity .show-all")
        accessible(page)
        shot(page, "steering-fr")
        for selector, name in (("#dashboard .grid-2", "funnel"), ("#weekly", "weekly"), ("#breakdowns", "breakdowns"),
                               ("#capacity", "capacity")):
            part(page, selector, f"steering-{name}-fr")
        page.check("input[name=metric][value=conversations]")
        expect(page.locator("[data-dimension=language] svg desc")).to_contain_text("Darija")
        csv = page.request.get(f"{world.stack.backend_url}{page.locator('#stats-csv').get_attribute('href')}")
        assert csv.ok and "funnel" in csv.text()
        page.click("#lang-switch")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("#funnel svg title")).to_have_text("مسار المستفيدين")
        shot(page, "steering-ar")
        part(page, "#dashboard .grid-2", "steering-funnel-ar")
        part(page, "#breakdowns", "steering-breakdowns-ar")
        page.click("#lang-switch")
