"""`normalize` with a map back to the original text, so that spans survive normalisation.

The bot's NLU pipeline works on normalised text, while entity annotations of training examples and
the spans returned to actions refer to what the user typed. `align` replays every step of
`normalize` on characters that remember where they came from; its output text is always exactly
`normalize(text)` (checked, with a coarser fallback alignment if the replay ever disagreed).
"""

from __future__ import annotations

import difflib
import importlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# The module, not the function `ge_text.normalize` re-exported by the package.
_n = importlib.import_module("ge_text.normalize")

# One character of the text being normalised: the character and the half-open span of the
# original text it stands for.
_Char = tuple[str, int, int]


@dataclass(frozen=True)
class Alignment:
    """The normalised text and, for each of its characters, the original span it comes from."""

    original: str
    normalized: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that a span of the normalised text stands for."""
        if not self.normalized or start >= end:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        end = min(end, len(self.normalized))
        return self.starts[start], self.ends[end - 1]

    def to_normalized(self, start: int, end: int) -> tuple[int, int] | None:
        """The span of the normalised text covering an original span, or None if it vanished
        (only symbols, or only spaces, were in it)."""
        inside = [i for i, (s, e) in enumerate(zip(self.starts, self.ends, strict=True)) if s < end and e > start]
        while inside and self.normalized[inside[0]] == " ":
            inside.pop(0)
        while inside and self.normalized[inside[-1]] == " ":
            inside.pop()
        if not inside:
            return None
        return inside[0], inside[-1] + 1


def _segments(chars: list[_Char]) -> list[list[_Char]]:
    """Base characters with the combining marks that follow them."""
    out: list[list[_Char]] = []
    for ch in chars:
        if out and unicodedata.combining(ch[0]):
            out[-1].append(ch)
        else:
            out.append([ch])
    return out


def _per_segment(chars: list[_Char], fn) -> list[_Char]:  # type: ignore[no-untyped-def]
    out: list[_Char] = []
    for seg in _segments(chars):
        text = "".join(c for c, _, _ in seg)
        start, end = seg[0][1], max(e for _, _, e in seg)
        out.extend((c, start, end) for c in fn(text))
    return out


def _per_char(chars: list[_Char], fn) -> list[_Char]:  # type: ignore[no-untyped-def]
    """Apply fn to each character; what a removed character covered goes to its left neighbour,
    so that a span ending before trailing tatweel or harakat still covers them."""
    out: list[_Char] = []
    for c, s, e in chars:
        replaced = fn(c)
        if replaced:
            out.extend((r, s, e) for r in replaced)
        elif out and not out[-1][0].isspace():
            prev = out[-1]
            out[-1] = (prev[0], prev[1], max(prev[2], e))
    return out


def _regex_sub(chars: list[_Char], pattern, keep_group_one: bool) -> list[_Char]:  # type: ignore[no-untyped-def]
    """Replay `pattern.sub` on characters: either keep the first character of each match
    (repeated letters) or replace each match by one space."""
    text = "".join(c for c, _, _ in chars)
    out: list[_Char] = []
    last = 0
    for m in pattern.finditer(text):
        out.extend(chars[last : m.start()])
        span_end = max(e for _, _, e in chars[m.start() : m.end()])
        first = chars[m.start()]
        if keep_group_one:
            out.append((first[0], first[1], span_end))
        else:
            out.append((" ", first[1], span_end))
        last = m.end()
    out.extend(chars[last:])
    return out


@lru_cache(maxsize=4096)
def _nfkc(segment: str) -> str:
    return unicodedata.normalize("NFKC", segment)


@lru_cache(maxsize=4096)
def _strip_accents(segment: str) -> str:
    return _n._strip_latin_accents(segment)


def _text(chars: list[_Char]) -> str:
    return "".join(c for c, _, _ in chars)


def _replay(text: str) -> list[_Char]:
    # Each step is skipped when it would change nothing: most messages are plain lower-case
    # Latin or Arabic, and this runs on every message that has an entity.
    chars: list[_Char] = [(c, i, i + 1) for i, c in enumerate(text)]
    if not unicodedata.is_normalized("NFKC", text):
        chars = _per_segment(chars, _nfkc)
    if any(e in text for e in _n._EMOJI_WORDS):
        chars = _per_char(chars, lambda c: _n._EMOJI_WORDS.get(c, c))
    current = _text(chars)
    if _n._TATWEEL in current or _n._ARABIC_MARKS.search(current):
        chars = _per_char(chars, lambda c: "" if c == _n._TATWEEL or _n._ARABIC_MARKS.match(c) else c)
        current = _text(chars)
    if current.translate(_n._LETTER_MAP) != current:
        chars = _per_char(chars, lambda c: c.translate(_n._LETTER_MAP))
        current = _text(chars)
    if not current.isascii():
        chars = _per_segment(chars, _strip_accents)
        current = _text(chars)
    folded = current.casefold()
    if len(folded) == len(current):
        chars = [(f, s, e) for f, (_, s, e) in zip(folded, chars, strict=True)]
    else:
        chars = _per_char(chars, str.casefold)
    chars = _regex_sub(chars, _n._REPEATS, keep_group_one=True)
    if any(unicodedata.category(c)[0] == "S" for c in _text(chars)):
        chars = _per_char(chars, lambda c: " " if unicodedata.category(c)[0] == "S" else c)
    chars = _regex_sub(chars, _n._PUNCT, keep_group_one=False)
    chars = _regex_sub(chars, _n._SPACES, keep_group_one=False)
    while chars and chars[0][0] == " ":
        chars.pop(0)
    while chars and chars[-1][0] == " ":
        chars.pop()
    return chars


def _fallback(text: str, normalized: str) -> list[_Char]:
    """Character alignment by longest common blocks, for any text the replay got wrong."""
    starts = [-1] * len(normalized)
    matcher = difflib.SequenceMatcher(a=text.casefold(), b=normalized, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            starts[block.b + k] = block.a + k
    last = 0
    for i, s in enumerate(starts):
        if s < 0:
            starts[i] = last
        last = starts[i]
    return [(c, s, min(len(text), s + 1)) for c, s in zip(normalized, starts, strict=True)]


def align(text: str) -> Alignment:
    """Normalise `text` like `normalize` and keep, for every character, where it came from."""
    expected = _n.normalize(text)
    chars = _replay(text) if text else []
    if "".join(c for c, _, _ in chars) != expected:
        chars = _fallback(text, expected)
    return Alignment(
        original=text,
        normalized=expected,
        starts=tuple(s for _, s, _ in chars),
        ends=tuple(e for _, _, e in chars),
    )
