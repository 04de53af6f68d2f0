"""The conversation's language, as the `language` slot holds it, and localised data of the domain."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

LANGUAGES = ("fr", "ar", "ary", "ary_latn")


def language_of(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "fr"


def localized_custom(domain: dict[str, Any], response: str, lang: str) -> dict[str, Any]:
    """The `custom` payload of a domain response's variant for `lang` (else its default variant).

    For localised data an action needs piecewise (button titles chosen at run time): it stays in
    the domain beside the other texts, with the same four language conditions.
    """
    variants = (domain.get("responses") or {}).get(response) or []
    default: dict[str, Any] = {}
    for variant in variants:
        conditions = variant.get("condition") or []
        if not conditions:
            default = variant.get("custom") or {}
        elif any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            return variant.get("custom") or {}
    return default
