"""One normalisation for messages, training data, lookups and synonyms.

Rasa 3.6 keeps harakat and tatweel inside tokens, collapses Arabic presentation forms into one
token, and matches lookups on raw text; applying this function on both sides of every comparison
makes `بالرباط`, `الربـــاط` and `ﺍﻟﺮﺑﺎﻁ` meet `الرباط`.
"""

from __future__ import annotations

import re
import unicodedata

_TATWEEL = "\u0640"
# Harakat, Quranic annotation marks and superscript alef: they decorate, they don't distinguish.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ک": "ك",
        "ڭ": "ك",
        "گ": "ك",
        "ڤ": "ف",
        "پ": "ب",
        # Arabic-Indic and Eastern Arabic-Indic digits, so "٢٤" and "24" are one age.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        "؟": "?",
        "،": ",",
        "؛": ";",
        "’": "'",
        "`": "'",
    }
)
# Emojis that carry an answer; every other symbol is dropped.
_EMOJI_WORDS = {"👍": " ok ", "👌": " ok ", "✅": " ok ", "🙏": " ", "❌": " non "}
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT = re.compile(r"[^\w\s'+@.:/-]|(?<!\d)[.:/](?!\d)|[_]")
_SPACES = re.compile(r"\s+")


def _strip_latin_accents(text: str) -> str:
    """Fold é→e, ç→c; Arabic marks are removed separately."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = [c for c in decomposed if not (unicodedata.combining(c) and ord(c) < 0x0600)]
    return unicodedata.normalize("NFC", "".join(kept))


def normalize(text: str) -> str:
    """Return the canonical form of a message: NFKC, no tatweel or harakat, unified letters,
    lower case, no Latin accents, no letter repeated three times or more, symbols dropped."""
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", text)
    for emoji, word in _EMOJI_WORDS.items():
        out = out.replace(emoji, word)
    out = out.replace(_TATWEEL, "")
    out = _ARABIC_MARKS.sub("", out)
    out = out.translate(_LETTER_MAP)
    out = _strip_latin_accents(out).casefold()
    out = _REPEATS.sub(r"\1", out)
    out = "".join(c if unicodedata.category(c)[0] != "S" else " " for c in out)
    out = _PUNCT.sub(" ", out)
    return _SPACES.sub(" ", out).strip()


_TOKEN = re.compile(r"[^\s'?!,;]+")


def tokens(text: str) -> list[str]:
    """Split already-normalised text into word tokens (apostrophes split: l'agence → l, agence)."""
    return _TOKEN.findall(text)
