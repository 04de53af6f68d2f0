"""Playwright helpers for the browser tests of the public page and its chat widget: the system
Chromium (never a downloaded browser), the page's address, and waits for the bot's replies."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from stack import ROOT, Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "test-artifacts" / "web"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
# A reply can take a while: the first message of a conversation loads the tracker, and actions
# call the backend.
BOT_TIMEOUT_MS = 30_000


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def page_url(stack: Stack, lang: str | None = None, *, rasa: str | None = None, backend: str | None = None) -> str:
    params = {"rasa": rasa or stack.rasa_url, "backend": backend or stack.backend_url}
    if lang:
        params["lang"] = lang
    return f"{stack.web_url}/?{urlencode(params)}"


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def wait_for_services(page: Page, lang: str) -> Locator:
    cards = page.locator(f'#services-list[data-lang="{lang}"] > li')
    expect(cards.first).to_be_visible(timeout=15_000)
    return cards


class Chat:
    """The widget on one page, driven as a person would: click, type, read."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.panel = page.locator("#chat")
        self.input = page.locator("#chat-input")
        self.bot = page.locator("#chat-log > li.msg-bot")
        self.user = page.locator("#chat-log > li.msg-user")
        self.typing = page.locator("#chat-typing")

    def open(self) -> None:
        self.page.locator("#chat-launcher").click()
        expect(self.panel).to_be_visible()

    def bot_count(self) -> int:
        return self.bot.count()

    def wait_for_replies(self, before: int, *, settle_ms: int = 600) -> list[Locator]:
        """The bot messages that arrived after the first `before` ones (waits for at least one,
        then until the typing indicator is gone and nothing more comes)."""
        try:
            self.bot.nth(before).wait_for(timeout=BOT_TIMEOUT_MS)
        except Exception as exc:
            raise AssertionError(
                "the bot did not answer over socket.io. If Rasa logs \"coroutine 'AsyncServer.enter_room' "
                "was never awaited\", its socket.io channel drops replies when session_persistence is on "
                f"(RasaHQ/rasa#13027). Status shown: {self.page.locator('#chat-status').inner_text()!r}"
            ) from exc
        expect(self.typing).to_be_hidden(timeout=BOT_TIMEOUT_MS)
        count = self.bot.count()
        deadline = time.monotonic() + settle_ms / 1000
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if self.bot.count() != count:
                expect(self.typing).to_be_hidden(timeout=BOT_TIMEOUT_MS)
                count = self.bot.count()
                deadline = time.monotonic() + settle_ms / 1000
        return [self.bot.nth(i) for i in range(before, count)]

    def texts(self, messages: list[Locator]) -> str:
        return "\n".join(m.locator(".bubble").inner_text() for m in messages if m.locator(".bubble").count())

    def say(self, text: str) -> list[Locator]:
        before = self.bot_count()
        self.input.fill(text)
        self.input.press("Enter")
        return self.wait_for_replies(before)

    def choices(self) -> Locator:
        return self.page.locator("#chat-log .choice:not([disabled])")

    def choose(self, title: str | re.Pattern[str]) -> list[Locator]:
        before = self.bot_count()
        self.choices().filter(has_text=title).first.click()
        return self.wait_for_replies(before)

    def choose_nth(self, index: int) -> list[Locator]:
        before = self.bot_count()
        self.choices().nth(index).click()
        return self.wait_for_replies(before)

    def session_id(self) -> str:
        return str(self.page.evaluate("() => JSON.parse(localStorage.getItem('ge.chat.v1')).sessionId"))


@contextmanager
def new_page(browser: Browser, viewport: dict[str, int] | None = None, **options: object) -> Iterator[Page]:
    """A page in a fresh context (its own storage), closed afterwards."""
    context = browser.new_context(viewport=viewport or DESKTOP, **options)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# Text contrast of every visible element that holds text, against the background it is drawn
# on (the nearest ancestor with an opaque background): WCAG 2.1 AA, 4.5:1 (3:1 for large text).
CONTRAST_SCRIPT = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = ({r, g, b}) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a >= 0.99) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const failures = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.matches(':disabled, :disabled *')) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0 || el.closest('[hidden]')
        || el.closest('.visually-hidden') || el.closest('[aria-hidden="true"]')) continue;
    const l1 = lum(parse(style.color)), l2 = lum(background(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}
"""

# Buttons, links and form fields without a name a screen reader could say.
UNNAMED_SCRIPT = """
() => Array.from(document.querySelectorAll('button, a[href], input, select, textarea'))
  .filter((el) => !el.closest('[hidden]'))
  .filter((el) => {
    const labelled = el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent.trim())
      || el.textContent.trim() || el.getAttribute('title');
    return !labelled;
  })
  .map((el) => el.outerHTML.slice(0, 120))
"""
