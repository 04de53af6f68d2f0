"""Which script a message is written in: the first half of language identification."""

from __future__ import annotations

from typing import Literal

Script = Literal["arabic", "latin", "mixed", "none"]


def detect_script(text: str) -> Script:
    """Arabic if at least 80% of the letters are Arabic, Latin if at least 80% are Latin."""
    arabic = latin = 0
    for char in text:
        if "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f" or "\ufb50" <= char <= "\ufeff":
            if char.isalpha():
                arabic += 1
        elif (char.isalpha() and char.isascii()) or "\u00c0" <= char <= "\u024f":
            latin += 1
    total = arabic + latin
    if total == 0:
        return "none"
    if arabic >= 0.8 * total:
        return "arabic"
    if latin >= 0.8 * total:
        return "latin"
    return "mixed"
