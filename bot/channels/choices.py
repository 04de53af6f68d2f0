"""Numbered answers on WhatsApp: which options the bot last offered to each person, and which of
them a reply ("2", "٢", "2.", or the option's words) picks."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ge_text import normalize

from bot.channels.formatting import Option, options_from_buttons

# Western, Arabic-Indic and Extended Arabic-Indic (Persian) digits all count.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# "2", "2.", "2)", "(2)", "n°2", "#2", "2️⃣" (keycap: digit + U+FE0F + U+20E3).
_NUMBER = re.compile(r"^\s*(?:n°|no\.?|#)?\s*\(?\s*(\d{1,2})\s*(?:\ufe0f?\u20e3)?\s*[).:-]?\s*$", re.IGNORECASE)
_NUMBER_THEN_WORDS = re.compile(r"^\s*(\d{1,2})\s*[).:-]\s*(.+)$", re.DOTALL)


def match_choice(reply: str, options: Sequence[Option]) -> tuple[int, Option] | None:
    """The 1-based number and option a reply picks, or None when it picks none of them."""
    if not options or not reply:
        return None
    text = reply.translate(_DIGITS).strip()
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1))
        return (index, options[index - 1]) if 1 <= index <= len(options) else None
    # "2. Fès" copied from the list: the number decides if the words agree with it.
    numbered = _NUMBER_THEN_WORDS.match(text)
    if numbered:
        index = int(numbered.group(1))
        if 1 <= index <= len(options) and _same(numbered.group(2), options[index - 1].title):
            return index, options[index - 1]
    wanted = _key(text)
    if not wanted:
        return None
    hits = [(i, option) for i, option in enumerate(options, start=1) if _key(option.title) == wanted]
    return hits[0] if len(hits) == 1 else None


def _key(text: str) -> str:
    return " ".join(normalize(text).split()).strip(" .!?؟،,")


def _same(a: str, b: str) -> bool:
    return _key(a) == _key(b)


class OfferStore:
    """The options last offered to each sender, in memory, bounded in size and age.

    The channel reads the offer from the conversation's tracker (`options_from_events`), which
    survives restarts and is shared by every Rasa instance; this store answers when the tracker
    cannot be read (tracker store down, no agent). A reply maps to the options of the bot's
    previous turn only: the channel calls `start_turn` before handing a message to Rasa, so a
    turn without buttons leaves nothing to pick from."""

    def __init__(self, max_senders: int = 10_000, ttl_seconds: float = 24 * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._offers: OrderedDict[str, tuple[float, list[Option]]] = OrderedDict()
        self._max = max_senders
        self._ttl = ttl_seconds
        self._clock = clock

    def remember(self, sender: str, options: Sequence[Option]) -> None:
        self._offers[sender] = (self._clock(), list(options))
        self._offers.move_to_end(sender)
        while len(self._offers) > self._max:
            self._offers.popitem(last=False)

    def start_turn(self, sender: str) -> None:
        """A new user message: what the bot offered before no longer applies."""
        self.remember(sender, [])

    def get(self, sender: str) -> list[Option] | None:
        """The offered options ([] when none), or None when this process does not know."""
        entry = self._offers.get(sender)
        if entry is None:
            return None
        stamp, options = entry
        if self._clock() - stamp > self._ttl:
            del self._offers[sender]
            return []
        return options

    def __len__(self) -> int:
        return len(self._offers)


def options_from_events(events: Iterable[Any]) -> list[Option]:
    """The options of the bot's last turn in a tracker's events (after the last user message)."""
    offered: list[Option] = []
    for event in reversed(list(events)):
        kind = getattr(event, "type_name", None) or (event.get("event") if isinstance(event, dict) else None)
        if kind == "user":
            break
        if kind == "bot":
            data = getattr(event, "data", None) if not isinstance(event, dict) else event.get("data")
            data = data or {}
            offered = options_from_buttons(data.get("buttons") or data.get("quick_replies"))
            if offered:
                break
    return offered
