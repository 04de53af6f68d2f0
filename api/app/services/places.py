"""The gazetteer of Moroccan places (`data/reference/places.yaml`): what a free-text place means.

Places are reference data read from YAML once per process, not database rows: nothing else
references them and the bot and the backend must agree on them (`scripts/build_places.py` writes
the file; `ge_text.Gazetteer` matches it). A place's id is the canonical value of the bot's
`city` entity.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from ge_text import Gazetteer, Match, normalize
from ge_text.gazetteer import alias_keys, has_arabic, stem_variants

# Ranks used when an alias could mean two places (the build keeps the better one) and to tell
# the major places from the 1,261 rural communes, which are only looked for when no major place
# is named: a rural commune called like a word must not hide "casa" in the same sentence.
KIND_RANK = {
    "city": 0,
    "province": 1,
    "prefecture": 1,
    "region": 2,
    "prefecture_arrondissements": 3,
    "arrondissement": 4,
    "commune": 5,
}
MINOR_KINDS = frozenset({"commune"})
FUZZY_MIN_LEN = 7
_NEVER = 10**6
ADMIN_KINDS = frozenset({"province", "prefecture"})


@dataclass(frozen=True)
class Place:
    id: str
    kind: str
    name_fr: str
    name_ar: str
    region: str | None = None
    province: str | None = None
    city: str | None = None
    seat: str | None = None
    lat: float | None = None
    lon: float | None = None
    geonameid: int | None = None
    hcp_code: str | None = None
    population: int | None = None
    aliases: tuple[str, ...] = field(default=())
    # GeoNames' alternate spellings: matched exactly, never as a one-typo guess.
    alternate_names: tuple[str, ...] = field(default=())

    def name(self, lang: str) -> str:
        """Arabic script for ar and ary, the French (Latin-script) name for fr and ary_latn."""
        return self.name_ar if lang in ("ar", "ary") else self.name_fr


@dataclass(frozen=True)
class Resolution:
    """A place found in free text: which words named it and whether they were a typo away."""

    place: Place
    surface: str
    fuzzy: bool
    # The name is also an everyday word ("safi"): a client may want to confirm.
    common_word: bool = False


@dataclass(frozen=True)
class ReferencePoint:
    lat: float
    lon: float
    # "place" when the place has its own coordinates, else whose coordinates stand for it.
    source: Literal["place", "city", "province_seat"]


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most 1 (one letter added, dropped, changed or swapped)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class PlaceIndex:
    """Every place, by id, with the matchers built from their aliases."""

    def __init__(self, places: list[Place], *, not_places: Iterable[str], common_words: Iterable[str] = ()) -> None:
        self.places: dict[str, Place] = {p.id: p for p in places}
        if len(self.places) != len(places):
            raise ValueError("places.yaml: duplicate place id")
        self._not_places = {k for word in not_places for k in alias_keys(word)}
        self._common = {k for word in common_words for k in alias_keys(word)}
        major: list[tuple[str, str]] = []
        minor: list[tuple[str, str]] = []
        typo_prone: list[tuple[str, str]] = []
        self._keys: dict[str, str] = {}
        self._keys_of: dict[str, set[str]] = {}
        for place in places:
            own = self._keys_of.setdefault(place.id, set())
            for alias in (*place.aliases, *place.alternate_names, place.id.replace("-", " ")):
                for key in alias_keys(alias):
                    if key in self._not_places or self._keys.setdefault(key, place.id) != place.id:
                        continue
                    own.add(key)
                    (minor if place.kind in MINOR_KINDS else major).append((key, place.id))
                    # One-typo matching only for the major places' own names and hand-written
                    # aliases, long single Latin words: on shorter words and on GeoNames'
                    # alternate spellings it turns "bonjour", "robot" or "awrach" into towns.
                    if (
                        place.kind not in MINOR_KINDS
                        and alias not in place.alternate_names
                        and " " not in key
                        and len(key) >= FUZZY_MIN_LEN
                        and not has_arabic(key)
                    ):
                        typo_prone.append((key, place.id))
        # Exact official names of regions and provinces, which lose their bare name to their seat
        # city in the matchers ("Settat" the city) but must still name themselves in an import.
        self._admin_names: dict[str, list[Place]] = {}
        for place in places:
            if place.kind in (*ADMIN_KINDS, "region"):
                for name in {place.name_fr, place.name_ar, place.id}:
                    for key in alias_keys(name):
                        self._admin_names.setdefault(key, []).append(place)
        # ge_text's own one-typo step is switched off on the exact matchers (fuzzy_min_len past
        # any word) and kept, then checked, on the short list above.
        self._major = Gazetteer(major, fuzzy_min_len=_NEVER)
        self._minor = Gazetteer(minor, fuzzy_min_len=_NEVER)
        self._typos = Gazetteer(typo_prone, fuzzy_min_len=FUZZY_MIN_LEN)

    def __len__(self) -> int:
        return len(self.places)

    @property
    def alias_count(self) -> int:
        return len(self._keys)

    def get(self, place_id: str) -> Place | None:
        return self.places.get(place_id)

    def of_kind(self, *kinds: str) -> list[Place]:
        return [p for p in self.places.values() if p.kind in kinds]

    def _is_common(self, match: Match) -> bool:
        return any(variant in self._common for variant in stem_variants(match.surface))

    def _one_typo_away(self, match: Match) -> bool:
        """ge_text's typo step compares deletions of both words, which lets two changes through
        ("bonjour" ~ "boujdour"); keep only true one-edit neighbours of the place's own keys."""
        keys = self._keys_of.get(match.value, set())
        return any(_within_one_edit(variant, key) for variant in stem_variants(match.surface) for key in keys)

    def resolve(self, text: str) -> Resolution | None:
        """The place a message names: exact names before a one-typo guess, real names before
        everyday words, major places before rural communes, then the first in reading order."""
        tiers = [[m for m in gazetteer.find(text) if normalize(m.surface) not in self._not_places]
                 for gazetteer in (self._major, self._minor)]
        # "Ameur Seflia" is a rural commune, not the town of Ameur: a longer name wins over the
        # major place it contains.
        everything = [m for tier in tiers for m in tier]
        tiers = [[m for m in tier if not any(o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start
                                             for o in everything)] for tier in tiers]
        ranked = [(self._is_common(m), tier, m.start, m) for tier, found in enumerate(tiers) for m in found]
        if ranked:
            # "safi, ana f casa": a name that is also a common word yields to any other place.
            common, _, _, first = min(ranked, key=lambda r: r[:3])
            return Resolution(self.places[first.value], first.surface, fuzzy=False, common_word=common)
        # A canonical id, as the bot's `city` entity holds it ("ksar-el-kebir", whose hyphens no
        # name has); after the names, so that a word that is also an id ("safi") keeps its flags.
        by_id = self.places.get(text.strip())
        if by_id is not None:
            return Resolution(by_id, text.strip(), fuzzy=False)
        for match in self._typos.find(text):
            if normalize(match.surface) not in self._not_places and self._one_typo_away(match):
                return Resolution(self.places[match.value], match.surface, fuzzy=True)
        return None

    def resolve_admin(self, text: str, *, kinds: frozenset[str] = ADMIN_KINDS) -> Place | None:
        """A province (or region) named in an import file: by id, name or alias of that kind, or
        through the place the words name (a city names its province)."""
        by_id = self.places.get(text.strip())
        if by_id is not None and by_id.kind in kinds:
            return by_id
        for place in self._admin_names.get(normalize(text), []):
            if place.kind in kinds:
                return place
        found = self.resolve(text)
        if found is None or found.fuzzy:
            return None
        place = found.place
        if place.kind in kinds:
            return place
        parent_id = place.region if "region" in kinds else place.province
        return self.places.get(parent_id) if parent_id else None

    def reference_point(self, place: Place) -> ReferencePoint | None:
        """Where distances are measured from: the place itself, else its city, its province's
        seat. A place without any of these has no point (never guessed)."""
        if place.lat is not None and place.lon is not None:
            return ReferencePoint(place.lat, place.lon, "place")
        parents: tuple[tuple[str | None, Literal["city", "province_seat"]], ...] = (
            (place.city, "city"), (place.province, "province_seat"))
        for parent_id, source in parents:
            parent = self.places.get(parent_id) if parent_id else None
            if parent is not None and parent.lat is not None and parent.lon is not None:
                return ReferencePoint(parent.lat, parent.lon, source)
        return None


def _place(item: dict[str, object]) -> Place:
    def text(key: str) -> str | None:
        value = item.get(key)
        return None if value is None else str(value)

    def number(key: str) -> float | None:
        value = item.get(key)
        return None if value is None else float(str(value))

    def integer(key: str) -> int | None:
        value = item.get(key)
        return None if value is None else int(str(value))

    def strings(key: str) -> tuple[str, ...]:
        value = item.get(key) or []
        if not isinstance(value, list):
            raise ValueError(f"places.yaml: {key} of {item.get('id')} must be a list")
        return tuple(str(v) for v in value)

    return Place(
        id=str(item["id"]),
        kind=str(item["kind"]),
        name_fr=str(item["name_fr"]),
        name_ar=str(item["name_ar"]),
        region=text("region"),
        province=text("province"),
        city=text("city"),
        seat=text("seat"),
        lat=number("lat"),
        lon=number("lon"),
        geonameid=integer("geonameid"),
        hcp_code=text("hcp_code"),
        population=integer("population"),
        aliases=strings("aliases"),
        alternate_names=strings("alternate_names"),
    )


def read_places(path: Path) -> PlaceIndex:
    # The C loader reads the 400 kB file in a fifth of the pure-Python loader's time.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return PlaceIndex(
        [_place(item) for item in document["places"]],
        not_places=document.get("not_places", []),
        common_words=document.get("common_words", []),
    )


@lru_cache(maxsize=4)
def _cached(path: Path, mtime_ns: int) -> PlaceIndex:
    return read_places(path)


_building = threading.Lock()


def load_places(path: Path) -> PlaceIndex:
    """The index for this file, built once per process (and again only if the file changes).

    Building takes about a second: concurrent first requests wait for one build instead of each
    making its own (the backend warms it at startup anyway, app/main.py)."""
    with _building:
        return _cached(path, path.stat().st_mtime_ns)
