"""`city` and `program` entities from the project's reference data, with canonical ids as values.

At `rasa train` time the alias tables are read from `data/reference/places.yaml` (the backend's
gazetteer of Moroccan places, built by scripts/build_places.py) and
`data/reference/program_aliases.yaml`, and stored in the model: the running bot reads no data
file. Matching is ge_text's (normalised text, glued prepositions and articles, one typo), with the
backend's rules for places (api/app/services/places.py: major places before rural communes,
`not_places`, one-typo guesses only on major places' own long names) so that the bot and
`GET /agencies/nearest?place=` read a message the same way. Two rules are the bot's own, because
it reads every message and not only the answer to "which city?":

- a place name that is also an everyday word ("safi" = "that's it" in Darija, "jdida" = "new")
  counts only after a locative word or clitic ("f safi", "fsafi", "à Salé", "بالجديدة"), or as
  the whole message ("jdida"), except for words sent alone all the time ("safi");
- likewise, programme aliases listed under `context_only` (Arabic words such as تحفيز
  "incentive", تأهيل "qualification") count only next to a programme word.

The component also records where the names stand (`ge_entity_spans`), on training examples as on
messages, so that the intent classifier can replace them by a placeholder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from ge_text import Gazetteer, Match, normalize
from ge_text.gazetteer import alias_keys, has_arabic, stem_variants
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalizer import code_fingerprint, is_payload
from bot.components.stored import StoredComponent

ENTITY_SPANS = "ge_entity_spans"
ROOT = Path(__file__).resolve().parents[2]

# Ranks of api/app/services/places.py: rural communes are looked for only when no major place is
# named; one-typo guesses only on major places' own long single Latin names.
MINOR_KINDS = frozenset({"commune"})
PLACE_FUZZY_MIN_LEN = 7
PROGRAM_FUZZY_MIN_LEN = 5
_NEVER = 10**6

# Words after which an everyday-word place name is a place: "f safi", "à salé", "ville de tata".
LOCATIVES = frozenset(
    normalize(w)
    for w in (
        "f", "fi", "fel", "fl", "b", "bi", "l", "men", "mn", "min", "mn", "dyal", "d", "ta3",
        "à", "a", "de", "du", "vers", "ville", "sur", "pres", "près", "region", "province",
        "mdinat", "mdina", "lmdina", "agence", "anapec", "kansken", "saken", "ghadi", "mchit", "jit",
        "في", "ف", "ب", "من", "الى", "إلى", "ل", "مدينة", "مدينه", "جهة", "إقليم", "اقليم", "وكالة", "ديال",
        "ساكن", "كنسكن", "اسكن", "أسكن",
    )
)
# Glued clitics that make a locative of an everyday word ("fsafi", "بآسفي").
LOCATIVE_CLITICS = ("fel", "fl", "f", "b", "l", "ف", "ب", "ل", "في", "فال", "بال")
PROGRAM_WORDS = frozenset(
    normalize(w)
    for w in (
        "programme", "programmes", "program", "programe", "prog", "barnamij", "barnamaj", "lbarnamij",
        "lbarnamaj", "برنامج", "البرنامج", "برامج", "contrat", "عقد", "dispositif", "projet", "مشروع",
        "plan",
    )
)


def resolve_path(path: str) -> Path:
    """Paths of the config are relative to the project root (where `rasa train` runs)."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    return candidate if candidate.exists() else ROOT / candidate


def _read_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


def build_place_tables(path: Path) -> dict[str, Any]:
    """Alias tables of places.yaml: id is the canonical value; names, aliases and GeoNames'
    alternate names are matched; common words and non-places as the backend reads them."""
    document = _read_yaml(path)
    not_places = {k for word in document.get("not_places", []) for k in alias_keys(str(word))}
    common = {k for word in document.get("common_words", []) for k in alias_keys(str(word))}
    owner: dict[str, str] = {}
    major: list[list[str]] = []
    minor: list[list[str]] = []
    typo: list[list[str]] = []
    keys_of: dict[str, list[str]] = {}
    for item in document["places"]:
        place_id, kind = str(item["id"]), str(item.get("kind", "city"))
        alternates = [str(a) for a in item.get("alternate_names") or []]
        own = keys_of.setdefault(place_id, [])
        names = [*(str(a) for a in item.get("aliases") or []), *alternates, place_id.replace("-", " ")]
        for alias in names:
            for key in sorted(alias_keys(alias)):
                if key in not_places or owner.setdefault(key, place_id) != place_id or key in own:
                    continue
                own.append(key)
                (minor if kind in MINOR_KINDS else major).append([key, place_id])
                if (
                    kind not in MINOR_KINDS
                    and alias not in alternates
                    and " " not in key
                    and len(key) >= PLACE_FUZZY_MIN_LEN
                    and not has_arabic(key)
                ):
                    typo.append([key, place_id])
    return {
        "major": major,
        "minor": minor,
        "typo": typo,
        "keys_of": keys_of,
        "not_places": sorted(not_places),
        "common": sorted(common),
    }


def build_program_tables(path: Path) -> dict[str, Any]:
    document = _read_yaml(path)
    programs = document["programs"]
    aliases = [[key, str(value)] for value, names in programs.items() for name in names
               for key in sorted(alias_keys(str(name)))]
    # The canonical id itself, spelt with spaces ("auto entrepreneur", "ana moukawil").
    aliases += [[key, str(value)] for value in programs for key in sorted(alias_keys(str(value).replace("_", " ")))]
    context_only = sorted({k for name in document.get("context_only", []) for k in alias_keys(str(name))})
    keys_of: dict[str, list[str]] = {}
    for key, value in aliases:
        keys_of.setdefault(value, []).append(key)
    return {"aliases": aliases, "context_only": context_only, "keys_of": keys_of}


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most 1."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _inside_longer(match: Match, others: Iterable[Match]) -> bool:
    size = match.end - match.start
    return any(o.start <= match.start and match.end <= o.end and o.end - o.start > size for o in others)


def _previous_word(text: str, start: int) -> str:
    words = text[:start].replace("'", " ").split()
    return words[-1] if words else ""


def _next_word(text: str, end: int) -> str:
    words = text[end:].replace("'", " ").split()
    return words[0] if words else ""


class EntityMatcher:
    """The matching logic, independent of Rasa (used by the component, the tests and the bench)."""

    def __init__(self, tables: dict[str, Any]) -> None:
        self.tables = tables
        places, programs = tables["city"], tables["program"]
        self._not_places = set(places["not_places"])
        self._common = set(places["common"]) | set(places.get("extra_common", []))
        self._not_alone = set(places.get("not_alone", []))
        self._keys_of = {k: set(v) for k, v in places["keys_of"].items()}
        self._major = Gazetteer([tuple(p) for p in places["major"]], fuzzy_min_len=_NEVER)
        self._minor = Gazetteer([tuple(p) for p in places["minor"]], fuzzy_min_len=_NEVER)
        self._typos = Gazetteer([tuple(p) for p in places["typo"]], fuzzy_min_len=PLACE_FUZZY_MIN_LEN)
        self._programs = Gazetteer([tuple(p) for p in programs["aliases"]], fuzzy_min_len=PROGRAM_FUZZY_MIN_LEN)
        self._program_context_only = set(programs["context_only"])
        self._program_keys_of = {k: set(v) for k, v in programs["keys_of"].items()}

    @classmethod
    def from_files(cls, places: Path, programs: Path) -> EntityMatcher:
        return cls({"city": build_place_tables(places), "program": build_program_tables(programs)})

    # Places ---------------------------------------------------------------------------------

    def _is_common(self, match: Match) -> bool:
        return any(v in self._common for v in stem_variants(match.surface))

    def _has_locative(self, text: str, match: Match) -> bool:
        surface = match.surface
        if surface in self._common:
            return _previous_word(text, match.start) in LOCATIVES
        # The common word itself was not typed bare: a clitic is glued to it ("fsafi").
        return any(surface.startswith(c) and surface[len(c) :] in self._common for c in LOCATIVE_CLITICS) or (
            _previous_word(text, match.start) in LOCATIVES
        )

    def _alone(self, text: str, match: Match) -> bool:
        """The whole message is the name (an answer to "which city?"), unless the name is a word
        people send alone all the time ("safi": that's it)."""
        return match.start == 0 and match.end == len(text) and not any(
            v in self._not_alone for v in stem_variants(match.surface))

    @staticmethod
    def _one_typo_away(match: Match, keys_of: dict[str, set[str]]) -> bool:
        """ge_text's typo step compares deletions of both words, which lets two changes through
        ("larache" ~ "awrach"): keep true one-edit neighbours only."""
        keys = keys_of.get(match.value, set())
        return any(_within_one_edit(v, k) for v in stem_variants(match.surface) for k in keys)

    def places(self, text: str, *, require_context: bool = True) -> list[Match]:
        """Places named in normalised text: major places, else rural communes, else a one-typo
        guess of a major place's name. Everyday-word names need a locative unless told not to."""
        tiers = [
            [m for m in gazetteer.find(text, normalized=True) if m.surface not in self._not_places]
            for gazetteer in (self._major, self._minor)
        ]
        everything = [m for tier in tiers for m in tier]
        tiers = [[m for m in tier if not _inside_longer(m, everything)] for tier in tiers]
        for found in tiers:
            if found:
                plain = [m for m in found if not self._is_common(m)]
                common = [m for m in found if self._is_common(m)
                          and (not require_context or self._has_locative(text, m) or self._alone(text, m))]
                kept = plain + ([] if plain else common)
                if kept:
                    return sorted(kept, key=lambda m: m.start)
        typos = [
            m
            for m in self._typos.find(text, normalized=True)
            if m.surface not in self._not_places and self._one_typo_away(m, self._keys_of)
        ]
        return typos[:1]

    # Programmes -----------------------------------------------------------------------------

    def programs(self, text: str) -> list[Match]:
        found = []
        for match in self._programs.find(text, normalized=True):
            if not match.exact and not self._one_typo_away(match, self._program_keys_of):
                continue
            if any(v in self._program_context_only for v in stem_variants(match.surface)):
                near = {_previous_word(text, match.start), _next_word(text, match.end)}
                if not any(v in PROGRAM_WORDS for w in near for v in stem_variants(w)):
                    continue
            found.append(match)
        return found

    def entities(self, text: str) -> list[tuple[str, Match]]:
        """Both entity types; overlaps go to the longer name, then the exact one, then the
        programme (its aliases are few and hand-written)."""
        candidates = [("program", m) for m in self.programs(text)] + [("city", m) for m in self.places(text)]
        candidates.sort(key=lambda c: (-(c[1].end - c[1].start), not c[1].exact, c[0] != "program", c[1].start))
        kept: list[tuple[str, Match]] = []
        for kind, match in candidates:
            if all(match.end <= other.start or match.start >= other.end for _, other in kept):
                kept.append((kind, match))
        return sorted(kept, key=lambda c: c[1].start)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=True,
)
class GazetteerEntityExtractor(StoredComponent, EntityExtractorMixin):
    """Extracts `city` and `program` with canonical ids, from alias tables stored in the model."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "places": "data/reference/places.yaml",
            "programs": "data/reference/program_aliases.yaml",
            # Place names that are everyday words in messages, beyond places.yaml's common_words.
            "common_words": [],
            # Everyday-word names that are not a place even as a whole message ("safi").
            "not_alone": [],
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The reference files are read outside the graph: a change must retrain."""
        digest = hashlib.sha256(code_fingerprint().encode())
        for key in ("places", "programs"):
            path = resolve_path(config.get(key) or cls.get_default_config()[key])
            digest.update(path.read_bytes() if path.exists() else b"missing")
        return digest.hexdigest()

    STATE_FILE = "gazetteer.json"
    WITHOUT_STATE = "finding no place or programme"

    def use_state(self, state: dict[str, Any] | None) -> None:
        self._tables = state
        self.matcher = EntityMatcher(state) if state else None

    @classmethod
    def read_state(cls, path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))

    @classmethod
    def write_state(cls, path: Path, state: Any) -> None:
        path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")

    def train(self, training_data: TrainingData) -> Resource:
        places = build_place_tables(resolve_path(self._config["places"]))
        places["extra_common"] = sorted({k for w in self._config["common_words"] for k in alias_keys(str(w))})
        places["not_alone"] = sorted({k for w in self._config["not_alone"] for k in alias_keys(str(w))})
        tables = {
            "city": places,
            "program": build_program_tables(resolve_path(self._config["programs"])),
        }
        return self.store(tables)

    def _find(self, message: Message) -> list[tuple[str, Match]]:
        text = message.get(TEXT)
        if not self.matcher or not isinstance(text, str) or not text or is_payload(text):
            return []
        found = self.matcher.entities(text)
        message.set(ENTITY_SPANS, [(kind, m.start, m.end) for kind, m in found])
        return found

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Spans only: the annotated entities of training examples stay as written.
        for message in training_data.training_examples:
            self._find(message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = [
                {
                    "entity": kind,
                    "start": match.start,
                    "end": match.end,
                    "value": match.value,
                    "confidence": 1.0 if match.exact else 0.8,
                    "extractor": self.__class__.__name__,
                }
                for kind, match in self._find(message)
            ]
            if entities:
                message.set(ENTITIES, [*message.get(ENTITIES, []), *entities], add_to_output=True)
        return messages
