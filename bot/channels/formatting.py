"""How the bot's replies look on WhatsApp: buttons as a numbered list, long texts split in parts
that Twilio accepts (at most 1,600 characters a message)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Twilio refuses a WhatsApp body longer than 1,600 characters. It counts UTF-16 code units, so an
# emoji counts twice: lengths here are measured the same way.
MAX_BODY = 1600


@dataclass(frozen=True)
class Option:
    """A choice offered to the user: what is shown and what is sent back to Rasa when chosen."""

    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


def options_from_buttons(buttons: Sequence[dict[str, Any]] | None) -> list[Option]:
    """The choosable buttons (a title and a payload) in the order Rasa gave them."""
    options = []
    for button in buttons or []:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or "").strip()
        if title and payload and not button.get("url"):
            options.append(Option(title=title, payload=payload))
    return options


def render_buttons(text: str | None, buttons: Sequence[dict[str, Any]] | None) -> tuple[str, list[Option]]:
    """The text followed by the numbered options ("1. ...\n2. ..."), and the options by number.

    Link buttons are listed after the options, unnumbered: choosing them by number would send
    nothing meaningful to the bot."""
    options = options_from_buttons(buttons)
    lines = [f"{number}. {option.title}" for number, option in enumerate(options, start=1)]
    for button in buttons or []:
        if button.get("url"):
            title = str(button.get("title") or "").strip()
            lines.append(f"{title}: {button['url']}" if title else str(button["url"]))
    parts = [part for part in ((text or "").strip(), "\n".join(lines)) if part]
    return "\n\n".join(parts), options


def body_length(text: str) -> int:
    """Length as Twilio counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_BODY) -> list[str]:
    """Parts of at most `limit` characters, in order, cut at line breaks when possible, else at
    spaces, and inside a word only when one word alone is longer than a message."""
    text = text.strip()
    if not text:
        return []
    if body_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if body_length(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.rstrip())
        current = ""
        if body_length(line) <= limit:
            current = line
            continue
        # One line longer than a message: cut it between words.
        for word in line.split(" "):
            candidate = f"{current} {word}" if current else word
            if body_length(candidate) <= limit:
                current = candidate
                continue
            if current.strip():
                parts.append(current.rstrip())
            current = ""
            while body_length(word) > limit:
                head = _prefix_within(word, limit)
                parts.append(head)
                word = word[len(head):]
            current = word
    if current.strip():
        parts.append(current.rstrip())
    return [part.lstrip("\n") for part in parts if part.strip()]


def _prefix_within(word: str, limit: int) -> str:
    """The longest prefix of `word` within `limit` UTF-16 units, never cutting a surrogate pair."""
    size = 0
    for index, char in enumerate(word):
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            return word[:index]
    return word
