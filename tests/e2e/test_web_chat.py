"""The public page and its chat widget in a real browser (system Chromium through Playwright),
against the real backend, action server and Rasa started by the `stack` fixture.

Screenshots (desktop and 360px phone) are written to test-artifacts/web/."""

from __future__ import annotations

import random
import re
import socket
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect, sync_playwright

from browser import (
    CONTRAST_SCRIPT,
    DESKTOP,
    PHONE,
    UNNAMED_SCRIPT,
    Chat,
    launch,
    new_page,
    page_url,
    screenshot,
    wait_for_services,
)
from stack import Stack

pytestmark = pytest.mark.e2e

LANGS = ["fr", "ar", "ary", "ary_latn"]
HTML_LANG = {"fr": "fr", "ar": "ar", "ary": "ary", "ary_latn": "ary-Latn"}
RTL = {"ar", "ary"}
# What the page must say in each language: ANAPEC's services are free, and eligibility is not
# a promise of funding.
PROMISES = {
    "fr": ("gratuits", "pas une promesse de financement"),
    "ar": ("مجانية", "ليست وعدا بالتمويل"),
    "ary": ("فابور", "ماشي معناها غادي تاخد التمويل"),
    "ary_latn": ("fabor", "machi ma3naha ghadi takhod tamwil"),
}
GREETING = {"fr": "Bonjour", "ar": "مرحبا", "ary": "السلام", "ary_latn": "Salam"}
OFFLINE = {"fr": "injoignable", "ar": "تعذر الوصول إلى المساعد", "ary": "ما قدرناش نوصلو للمساعد",
           "ary_latn": "Ma9dernach nwaslo"}
BOOK_REQUEST = {"fr": "Je voudrais prendre un rendez-vous", "ar": "أريد حجز موعد"}
BOOKING_FLOW = {
    "fr": {"city": "Tanger", "name": "Salma Benali", "confirm": "Confirmer", "done": "C'est réservé",
           "asks_city": "ville", "asks_name": "nom", "asks_phone": "mobile", "summary": "récapitule",
           "mine": "mes rendez-vous", "listed": "Vos rendez-vous à venir"},
    "ar": {"city": "طنجة", "name": "سلمى بنعلي", "confirm": "تأكيد", "done": "تم الحجز",
           "asks_city": "مدينة", "asks_name": "باسم", "asks_phone": "رقم هاتفك", "summary": "ملخص موعدك",
           "mine": "مواعيدي", "listed": "مواعيدك القادمة"},
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def catalogue(stack: Stack, lang: str) -> list[dict[str, object]]:
    response = httpx.get(f"{stack.backend_url}/api/v1/services", params={"lang": lang}, timeout=10)
    response.raise_for_status()
    return list(response.json())


def tracker(stack: Stack, session_id: str) -> dict[str, object]:
    response = httpx.get(f"{stack.rasa_url}/conversations/{session_id}/tracker", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def user_texts(stack: Stack, session_id: str) -> list[str]:
    events = tracker(stack, session_id)["events"]
    assert isinstance(events, list)
    return [str(e.get("text")) for e in events if e.get("event") == "user"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_phone() -> str:
    return "06" + "".join(random.choice("0123456789") for _ in range(8))


def direction(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate("el => getComputedStyle(el).direction"))


# ------------------------------------------------------------------------------- the page


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_shows_the_backends_services_in_each_language(stack: Stack, browser: Browser, lang: str) -> None:
    services = catalogue(stack, lang)
    assert services, "the backend has no service to show"
    with new_page(browser) as page:
        page.goto(page_url(stack, lang))
        cards = wait_for_services(page, lang)
        expect(cards).to_have_count(len(services))
        assert cards.locator("h3").all_inner_texts() == [s["name"] for s in services]
        for card, service in zip(cards.all(), services, strict=True):
            assert card.get_attribute("data-service-id") == service["id"]
            expect(card).to_contain_text(str(service["description"]))
            expect(card).to_contain_text(str(service["duration_minutes"]))
        assert page.locator("html").get_attribute("lang") == HTML_LANG[lang]
        body = page.locator("main").inner_text()
        free, not_a_promise = PROMISES[lang]
        assert free in body and not_a_promise in body
        assert page.locator(f'.lang-switch a[data-lang="{lang}"]').get_attribute("aria-current") == "true"
        screenshot(page, f"page-{lang}-desktop", full_page=True)


def test_the_page_never_hard_codes_the_services() -> None:
    from stack import ROOT

    names = ["Information et orientation", "Aide au plan d'affaires", "Formalisation", "الإعلام والتوجيه"]
    for path in (ROOT / "web").rglob("*"):
        if path.is_file() and path.suffix in {".html", ".js", ".css"} and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert not [n for n in names if n in text], f"{path} repeats the catalogue instead of fetching it"


def test_the_language_switch_reloads_services_and_is_remembered(stack: Stack, browser: Browser) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        wait_for_services(page, "fr")
        page.locator('.lang-switch a[data-lang="ar"]').click()
        cards = wait_for_services(page, "ar")
        assert cards.locator("h3").all_inner_texts() == [s["name"] for s in catalogue(stack, "ar")]
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert "lang=ar" in page.url
        # The choice survives a visit without ?lang= (kept in localStorage).
        page.goto(page_url(stack))
        wait_for_services(page, "ar")
        page.locator('.lang-switch a[data-lang="ary_latn"]').click()
        cards = wait_for_services(page, "ary_latn")
        assert cards.locator("h3").all_inner_texts() == [s["name"] for s in catalogue(stack, "ary_latn")]
        assert page.locator("html").get_attribute("dir") == "ltr"


@pytest.mark.parametrize("lang", LANGS)
def test_arabic_script_pages_are_right_to_left(stack: Stack, browser: Browser, lang: str) -> None:
    expected = "rtl" if lang in RTL else "ltr"
    with new_page(browser) as page:
        page.goto(page_url(stack, lang))
        wait_for_services(page, lang)
        assert page.locator("html").get_attribute("dir") == expected
        assert direction(page, "main") == expected
        # The layout mirrors: the chat button sits at the end of the line (left in Arabic).
        box = page.locator("#chat-launcher").bounding_box()
        assert box is not None
        on_left = box["x"] + box["width"] / 2 < DESKTOP["width"] / 2
        assert on_left == (lang in RTL)


def test_the_page_says_so_when_the_backend_is_unreachable(stack: Stack, browser: Browser) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, "ar", backend=f"http://127.0.0.1:{closed_port()}"))
        status = page.locator("#services-status")
        expect(status).to_contain_text("تعذر تحميل الخدمات", timeout=15_000)
        retry = status.get_by_role("button", name="أعد المحاولة")
        expect(retry).to_be_visible()
        assert page.locator("#services-list > li").count() == 0


def test_config_js_sets_the_urls_and_can_forbid_overriding_them(stack: Stack, browser: Browser) -> None:
    closed = f"http://127.0.0.1:{closed_port()}"
    with new_page(browser) as page:
        # Without ?rasa= / ?backend= nor config.js values: the page's host on the default ports.
        page.goto(f"{stack.web_url}/?lang=fr")
        assert page.evaluate("() => GE.config") == {"rasaUrl": "http://127.0.0.1:5005",
                                                     "backendUrl": "http://127.0.0.1:8000"}
        # A deployment's config.js wins over the defaults, and may forbid the query overrides.
        deployed = (f'window.GE_CONFIG = {{rasaUrl: "{stack.rasa_url}/", backendUrl: "{stack.backend_url}",'
                    " allowUrlOverride: false};")
        page.route("**/config.js", lambda route: route.fulfill(body=deployed, content_type="text/javascript"))
        page.goto(page_url(stack, "fr", rasa=closed, backend=closed))
        wait_for_services(page, "fr")
        assert page.evaluate("() => GE.config") == {"rasaUrl": stack.rasa_url, "backendUrl": stack.backend_url}
        # "/" is the page's own origin (behind a reverse proxy that forwards /socket.io/ and /api/).
        page.route("**/config.js", lambda route: route.fulfill(
            body='window.GE_CONFIG = {rasaUrl: "/", backendUrl: "/"};', content_type="text/javascript"))
        page.goto(f"{stack.web_url}/?lang=fr")
        assert page.evaluate("() => GE.config") == {"rasaUrl": stack.web_url, "backendUrl": stack.web_url}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_page_is_accessible(stack: Stack, browser: Browser, lang: str) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, lang))
        wait_for_services(page, lang)
        for role in ("banner", "navigation", "main", "contentinfo"):
            expect(page.get_by_role(role).first).to_be_visible()
        expect(page.locator("h1")).to_have_count(1)
        assert page.evaluate(UNNAMED_SCRIPT) == []
        assert page.evaluate(CONTRAST_SCRIPT) == []
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        log = page.get_by_role("log")
        assert log.get_attribute("aria-live") == "polite"
        assert page.evaluate(UNNAMED_SCRIPT) == []
        assert page.evaluate(CONTRAST_SCRIPT) == []


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_page_fits_a_360px_phone(stack: Stack, browser: Browser, lang: str) -> None:
    with new_page(browser, PHONE, is_mobile=True, has_touch=True) as page:
        page.goto(page_url(stack, lang))
        wait_for_services(page, lang)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, f"page-{lang}-phone")
        screenshot(page, f"page-{lang}-phone-full", full_page=True)
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        box = page.locator("#chat").bounding_box()
        assert box is not None and box["width"] == PHONE["width"] and box["height"] >= PHONE["height"] - 1
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        if lang in BOOK_REQUEST:
            chat.say(BOOK_REQUEST[lang])
            expect(chat.choices().first).to_be_visible()
            for choice in chat.choices().all():
                b = choice.bounding_box()
                assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"]
        screenshot(page, f"chat-{lang}-phone")


# ------------------------------------------------------------------------------- the widget


@pytest.mark.parametrize("lang", LANGS)
def test_the_widget_greets_in_the_page_language(stack: Stack, browser: Browser, lang: str) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, lang))
        chat = Chat(page)
        chat.open()
        expect(chat.input).to_be_focused()
        replies = chat.wait_for_replies(0)
        assert chat.texts(replies).startswith(GREETING[lang])
        assert replies[0].get_attribute("dir") == ("rtl" if lang in RTL else "ltr")
        # The greeting offers the main choices as numbered buttons.
        choices = chat.choices()
        expect(choices.first).to_be_visible()
        assert [c.locator(".choice-num").inner_text() for c in choices.all()] == [
            str(i) for i in range(1, choices.count() + 1)]
        # A long answer is shown from its beginning: the greeting stays in view.
        expect(replies[0]).to_be_in_viewport()
        expect(chat.user).to_have_count(0)  # the opening greeting is not shown as the user's
        screenshot(page, f"chat-{lang}-desktop")


def test_buttons_are_shown_and_clicking_one_sends_its_payload(stack: Stack, browser: Browser) -> None:
    services = catalogue(stack, "fr")
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        chat.say(BOOK_REQUEST["fr"])
        titles = chat.choices().all_inner_texts()
        assert len(titles) == len(services)
        for i, (title, service) in enumerate(zip(titles, services, strict=True), start=1):
            assert title.split("\n")[0].strip() == str(i)  # the number one may type instead
            assert str(service["name"]) in title
        chosen = services[1]
        replies = chat.choose(str(chosen["name"]))
        assert BOOKING_FLOW["fr"]["asks_city"] in chat.texts(replies).lower()
        expect(chat.user.last.locator(".bubble")).to_have_text(re.compile(re.escape(str(chosen["name"]))))
        expect(page.locator("#chat-log .choice:not([disabled])")).to_have_count(0)  # answered
        sent = user_texts(stack, chat.session_id())[-1]
        assert sent == f'/inform{{"service":"{chosen["id"]}"}}'


@pytest.mark.parametrize("typed", ["3", "٣"])
def test_a_reply_typed_as_a_number_picks_that_button(stack: Stack, browser: Browser, typed: str) -> None:
    services = catalogue(stack, "fr")
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        chat.say(BOOK_REQUEST["fr"])
        expect(chat.choices()).to_have_count(len(services))
        replies = chat.say(typed)
        assert BOOKING_FLOW["fr"]["asks_city"] in chat.texts(replies).lower()
        expect(chat.user.last.locator(".bubble")).to_have_text(typed)  # what the person typed stays what they see
        sent = user_texts(stack, chat.session_id())[-1]
        assert sent == f'/inform{{"service":"{services[2]["id"]}"}}'


def test_a_service_cards_book_button_starts_a_booking_for_that_service(stack: Stack, browser: Browser) -> None:
    service = next(s for s in catalogue(stack, "fr") if s["id"] == "business_plan")
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        wait_for_services(page, "fr")
        card = page.locator('#services-list > li[data-service-id="business_plan"]')
        card.get_by_role("button", name=f"Prendre rendez-vous : {service['name']}").click()
        chat = Chat(page)
        expect(chat.panel).to_be_visible()
        expect(chat.user.last.locator(".bubble")).to_have_text(str(service["name"]))
        expect(chat.bot.last).to_contain_text(BOOKING_FLOW["fr"]["asks_city"], timeout=30_000)
        texts = user_texts(stack, chat.session_id())
        assert texts[-1] == '/book_appointment{"service":"business_plan"}'
        slots = tracker(stack, chat.session_id())["slots"]
        assert isinstance(slots, dict) and slots["service"] == "business_plan"


def test_a_reply_typed_as_the_buttons_words_picks_that_button(stack: Stack, browser: Browser) -> None:
    services = catalogue(stack, "fr")
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        chat.say(BOOK_REQUEST["fr"])
        expect(chat.choices()).to_have_count(len(services))
        typed = str(services[0]["name"]).upper()
        chat.say(typed)
        sent = user_texts(stack, chat.session_id())[-1]
        assert sent == f'/inform{{"service":"{services[0]["id"]}"}}'


def test_the_conversation_survives_a_page_reload(stack: Stack, browser: Browser) -> None:
    services = catalogue(stack, "fr")
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        chat.say(BOOK_REQUEST["fr"])
        chat.say("1")
        session_id = chat.session_id()
        shown = page.locator("#chat-log > li").all_inner_texts()
        page.reload()
        # Same transcript, same session, the widget still open, and the bot remembers where we were.
        expect(chat.panel).to_be_visible()
        expect(page.locator("#chat-log > li")).to_have_count(len(shown))
        assert page.locator("#chat-log > li").all_inner_texts() == shown
        assert chat.session_id() == session_id
        replies = chat.say(BOOKING_FLOW["fr"]["city"])
        expect(chat.choices().first).to_be_visible()  # the agencies near Tanger, not a new greeting
        assert GREETING["fr"] not in chat.texts(replies)
        texts = user_texts(stack, session_id)
        assert f'/inform{{"service":"{services[0]["id"]}"}}' in texts and texts[-1] == BOOKING_FLOW["fr"]["city"]
        # "New conversation" forgets it.
        page.locator("#chat-new").click()
        chat.wait_for_replies(0)
        assert chat.session_id() != session_id
        expect(chat.user).to_have_count(0)


def test_the_quick_language_switch_tells_the_bot(stack: Stack, browser: Browser) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        before = chat.bot_count()
        page.locator('[data-chat-lang="ar"]').click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")  # the page follows
        wait_for_services(page, "ar")
        assert page.locator('[data-chat-lang="ar"]').get_attribute("aria-pressed") == "true"
        expect(chat.user.last.locator(".bubble")).to_have_text("العربية")
        replies = chat.wait_for_replies(before)
        assert all(r.get_attribute("dir") == "rtl" for r in replies)  # the bot answers in Arabic
        assert user_texts(stack, chat.session_id())[-1] == '/choose_language{"language":"ar"}'
        slots = tracker(stack, chat.session_id())["slots"]
        assert isinstance(slots, dict) and slots["language"] == "ar"


def test_messages_in_arabic_script_are_right_to_left_whatever_the_page(stack: Stack, browser: Browser) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        replies = chat.say("السلام عليكم")
        assert chat.user.last.get_attribute("dir") == "rtl"
        assert replies[0].get_attribute("dir") == "rtl"
        assert replies[0].locator(".bubble").evaluate("el => getComputedStyle(el).direction") == "rtl"
        replies = chat.say("Bonjour")
        assert chat.user.last.get_attribute("dir") == "ltr"
        assert replies[0].get_attribute("dir") == "ltr"


def test_the_widget_says_so_when_the_bot_is_unreachable(stack: Stack, browser: Browser) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, "ar", rasa=f"http://127.0.0.1:{closed_port()}"))
        chat = Chat(page)
        chat.open()
        status = page.locator("#chat-status")
        expect(status).to_contain_text(OFFLINE["ar"], timeout=15_000)
        expect(page.get_by_role("status").filter(has_text=OFFLINE["ar"])).to_be_visible()
        chat.input.fill("مرحبا")
        chat.input.press("Enter")
        expect(status).to_contain_text("لم تُرسل الرسالة")
        expect(chat.input).to_have_value("مرحبا")  # nothing typed is lost
        expect(chat.user).to_have_count(0)
        screenshot(page, "chat-ar-offline-desktop")


def test_the_widget_reconnects_after_the_connection_drops(stack: Stack, browser: Browser) -> None:
    sockets: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    with new_page(browser) as page:
        page.route_web_socket(re.compile(r"/socket\.io/"), relay)
        page.goto(page_url(stack, "fr"))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        for _ in range(150):  # socket.io starts with HTTP polling, then upgrades
            if sockets:
                break
            page.wait_for_timeout(100)
        assert sockets, "the widget never upgraded to a websocket"
        # The connection drops (as on a train): the widget says so, reconnects, rejoins the
        # conversation and the bot answers again.
        sockets[-1].close()
        status = page.locator("#chat-status")
        expect(status).to_contain_text("Connexion rétablie", timeout=20_000)
        replies = chat.say("Bonjour")
        assert chat.texts(replies).startswith(GREETING["fr"])


# ------------------------------------------------------------------------------- keyboard


def test_everything_works_with_the_keyboard_alone(stack: Stack, browser: Browser) -> None:
    with new_page(browser) as page:
        page.goto(page_url(stack, "fr"))
        wait_for_services(page, "fr")
        keyboard = page.keyboard
        # The first Tab reaches the skip link, which leads to the main content.
        keyboard.press("Tab")
        skip = page.locator(".skip-link")
        expect(skip).to_be_focused()
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0  # visible while focused
        keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        # Next comes the call to action, with a visible focus ring; Enter opens the chat.
        keyboard.press("Tab")
        cta = page.locator(".hero .cta")
        expect(cta).to_be_focused()
        style, width = cta.evaluate("el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]")
        assert style != "none" and float(width.removesuffix("px")) >= 2
        keyboard.press("Enter")
        chat = Chat(page)
        expect(chat.panel).to_be_visible()
        expect(chat.input).to_be_focused()
        chat.wait_for_replies(0)
        before = chat.bot_count()
        keyboard.type(BOOK_REQUEST["fr"])
        keyboard.press("Enter")
        chat.wait_for_replies(before)
        expect(chat.choices().first).to_be_visible()
        # Shift+Tab from the message field walks back through the offered choices.
        second = chat.choices().nth(1)
        for _ in range(20):
            keyboard.press("Shift+Tab")
            if second.evaluate("el => el === document.activeElement"):
                break
        expect(second).to_be_focused()
        before = chat.bot_count()
        keyboard.press("Enter")
        chat.wait_for_replies(before)
        expect(chat.input).to_be_focused()  # focus comes back to where one types
        # Escape closes the chat and gives the focus back to its button, Enter reopens it.
        keyboard.press("Escape")
        expect(chat.panel).to_be_hidden()
        launcher = page.locator("#chat-launcher")
        expect(launcher).to_be_focused()
        assert launcher.get_attribute("aria-expanded") == "false"
        keyboard.press("Enter")
        expect(chat.panel).to_be_visible()
        expect(chat.input).to_be_focused()
        # The language links are reachable and work with Enter.
        page.locator('.lang-switch a[data-lang="ar"]').focus()
        keyboard.press("Enter")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        wait_for_services(page, "ar")


# ------------------------------------------------------------------------------- booking


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_a_full_booking_through_the_widget(stack: Stack, browser: Browser, lang: str) -> None:
    flow = BOOKING_FLOW[lang]
    phone = random_phone()
    services = catalogue(stack, lang)
    service = next(s for s in services if s["id"] == "business_plan")
    with new_page(browser) as page:
        page.goto(page_url(stack, lang))
        chat = Chat(page)
        chat.open()
        chat.wait_for_replies(0)
        replies = chat.say(BOOK_REQUEST[lang])
        expect(chat.choices()).to_have_count(len(services))
        replies = chat.choose(str(service["name"]))
        assert flow["asks_city"] in chat.texts(replies)
        replies = chat.say(flow["city"])
        expect(chat.choices().first).to_be_visible()  # the agencies near the city
        replies = chat.choose_nth(0)
        expect(chat.choices().first).to_be_visible()  # the free slots
        replies = chat.choose_nth(0)
        assert flow["asks_name"] in chat.texts(replies)
        replies = chat.say(flow["name"])
        assert flow["asks_phone"] in chat.texts(replies)
        replies = chat.say(phone)
        summary = chat.texts(replies)
        assert flow["summary"] in summary and flow["name"] in summary and str(service["name"]) in summary
        screenshot(page, f"booking-{lang}-summary-desktop")
        replies = chat.choose(flow["confirm"])
        done = chat.texts(replies)
        assert flow["done"] in done
        if lang in RTL:
            assert all(r.get_attribute("dir") == "rtl" for r in replies)
        screenshot(page, f"booking-{lang}-done-desktop")
        # The appointment just booked is this conversation's: shown without asking its reference.
        mine = chat.texts(chat.say(flow["mine"]))
        assert flow["listed"] in mine, mine
    booked = httpx.get(f"{stack.backend_url}/api/v1/appointments", params={"phone": phone},
                       headers={"Authorization": f"Bearer {stack.service_token}"}, timeout=10)
    booked.raise_for_status()
    appointments = booked.json()
    assert len(appointments) == 1
    appointment = appointments[0]
    assert appointment["full_name"] == flow["name"] and appointment["service"] == "business_plan"
    assert appointment["channel"] == "web"
    assert appointment["language"] == lang
    assert appointment["reference"] in done
    assert appointment["reference"] in mine
