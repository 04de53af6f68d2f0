"""The conversation's language, as the `language` slot holds it."""

from __future__ import annotations

from rasa_sdk import Tracker

LANGUAGES = ("fr", "ar", "ary", "ary_latn")


def language_of(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "fr"
