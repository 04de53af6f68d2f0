"""Find known names (places, programmes) in free text, whatever the script, clitics or typos.

The same matcher serves the backend's `?place=` resolution and the bot's entity extraction, so the
two can never disagree on what "fttanja" means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from ge_text.normalize import normalize

# Prepositions and conjunctions typed glued to the name that follows: "فطنجة", "بالرباط",
# "frbat", "fl3ayoun". Longest first, so "فال" is tried before "ف".
_ARABIC_PREFIXES = ("وفال", "وبال", "فال", "بال", "وال", "لل", "وف", "وب", "ول", "ف", "ب", "ل", "و", "ك")
_LATIN_PREFIXES = ("fel", "fil", "fl", "bl", "el", "al", "f", "b", "l", "d")
_MIN_STEM = 3
_LATIN_VOWELS = frozenset("aeiouy")
_MAX_NGRAM = 4
_WORD = re.compile(r"[^\s'?!,;]+")


@dataclass(frozen=True)
class Match:
    """A name found in normalised text: its canonical value and where it stands."""

    value: str
    start: int
    end: int
    surface: str
    exact: bool


def _is_arabic(token: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in token)



def has_arabic(text: str) -> bool:
    """Whether the text has an Arabic letter."""
    return any("\u0600" <= c <= "\u06ff" for c in text)


def alias_keys(alias: str) -> set[str]:
    """The normalised forms under which a name is matched, by the bot and the backend alike.

    Words are split at apostrophes and hyphens are kept inside words, so "M'diq" must also be
    known as "m diq" and "mdiq", and "Tan-Tan" as "tan tan" and "tantan".
    """
    base = normalize(alias)
    if not base:
        return set()
    keys = {base}
    for word_sep in ("'", "-"):
        for form in list(keys):
            if word_sep in form:
                keys.add(normalize(form.replace(word_sep, " ")))
                if not has_arabic(form):
                    keys.add(normalize(form.replace(word_sep, "")))
    return {k for k in keys if k}

def stem_variants(token: str) -> list[str]:
    """The token and what remains once a glued preposition or article is taken off."""
    return list(_stem_variants(token))


@lru_cache(maxsize=65536)
def _stem_variants(token: str) -> tuple[str, ...]:
    out = [token]
    if _is_arabic(token):
        for prefix in _ARABIC_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= _MIN_STEM - 1:
                rest = token[len(prefix) :]
                out.append(rest)
                if prefix.endswith("ل") and not rest.startswith("ا"):
                    out.append("ال" + rest)  # "للرباط" is ل + الرباط with its alef elided
        for word in list(out):
            out.append(word[2:] if word.startswith("ال") else "ال" + word)
    else:
        for prefix in _LATIN_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= _MIN_STEM:
                rest = token[len(prefix) :].lstrip("'")
                out.append(rest)
                # The article assimilated to a sun letter: "f ttanja", "fttanja", "ddar lbida".
                if len(rest) > _MIN_STEM and rest[0] == rest[1] and rest[0] not in _LATIN_VOWELS:
                    out.append(rest[1:])
        if len(token) > _MIN_STEM and token[0] == token[1] and token[0] not in _LATIN_VOWELS:
            out.append(token[1:])
    return tuple(dict.fromkeys(out))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Gazetteer:
    """Maps aliases (any script, any spelling) to canonical values and finds them in text."""

    def __init__(self, aliases: Mapping[str, str] | Iterable[tuple[str, str]], *, fuzzy_min_len: int = 5) -> None:
        items = aliases.items() if isinstance(aliases, Mapping) else aliases
        self._exact: dict[str, str] = {}
        for alias, value in items:
            key = normalize(alias)
            if key:
                self._exact.setdefault(key, value)
        self._fuzzy_min_len = fuzzy_min_len
        # First words of the multi-word aliases and the longest alias in words: most n-grams of a
        # message cannot start an alias, and are skipped without building their stem variants.
        self._heads = {key.split(" ", 1)[0] for key in self._exact if " " in key}
        self._max_words = max((key.count(" ") + 1 for key in self._exact), default=1)
        # One-edit neighbourhood of single-word Latin aliases (symmetric deletion): typos such as
        # "marakech" or "casablnca" cost a few dict look-ups instead of a scan of every alias.
        self._deleted: dict[str, set[str]] = {}
        for key in self._exact:
            if " " not in key and not _is_arabic(key) and len(key) >= fuzzy_min_len:
                for d in _deletions(key) | {key}:
                    self._deleted.setdefault(d, set()).add(key)

    def __len__(self) -> int:
        return len(self._exact)

    def lookup(self, phrase: str) -> str | None:
        """The canonical value of a whole phrase, or None."""
        found = self.find(phrase)
        text = normalize(phrase)
        for match in found:
            if match.start == 0 and match.end == len(text):
                return match.value
        return found[0].value if len(found) == 1 else None

    def _resolve(self, phrase: str, *, allow_fuzzy: bool) -> tuple[str, bool] | None:
        words = phrase.split(" ")
        for head in _stem_variants(words[0]):
            candidate = " ".join([head, *words[1:]])
            if candidate in self._exact:
                return self._exact[candidate], head == words[0]
        if allow_fuzzy and len(words) == 1 and not _is_arabic(phrase) and len(phrase) >= self._fuzzy_min_len:
            hits: set[str] = set()
            for probe in _deletions(phrase) | {phrase}:
                hits |= self._deleted.get(probe, set())
            values = {self._exact[h] for h in hits}
            if len(values) == 1:
                return values.pop(), False
        return None

    def find(self, text: str, *, normalized: bool = False) -> list[Match]:
        """Every non-overlapping known name in the text, longest first, in reading order."""
        norm = text if normalized else normalize(text)
        spans = [(m.start(), m.end()) for m in _WORD.finditer(norm)]
        words = [norm[s:e] for s, e in spans]
        heads: list[list[str] | None] = [None] * len(words)
        matches: list[Match] = []
        i = 0
        while i < len(spans):
            found = None
            for n in range(min(_MAX_NGRAM, self._max_words, len(spans) - i), 0, -1):
                if n > 1:
                    if heads[i] is None:
                        heads[i] = list(_stem_variants(words[i]))
                    if not any(head in self._heads for head in heads[i]):  # type: ignore[union-attr]
                        continue
                start, end = spans[i][0], spans[i + n - 1][1]
                phrase = " ".join(words[i : i + n])
                resolved = self._resolve(phrase, allow_fuzzy=(n == 1))
                if resolved:
                    found = Match(resolved[0], start, end, norm[start:end], resolved[1])
                    i += n
                    break
            if found:
                matches.append(found)
            else:
                i += 1
        return matches
