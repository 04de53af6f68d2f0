"""`appointment_ref`: a booking reference typed in a message ("K7M2QX", "ma référence est k7m2qx").

A reference is six characters of the backend's alphabet (no 0/O, no 1/I) with at least one
letter and one digit (api/app/services/appointments.py). Such a token is taken for a reference
only where one is expected, so that an Arabizi word of the same shape ("lma3na") is not: when
the conversation's form asks for it (the tracker Rasa passes to `process`), or next to a word
that names it ("ref", "référence", "المرجع"). Its span is recorded with the other entity spans,
so the intent classifier reads `__ref__` in its place (an answer is `inform` whatever the
reference) and the language identifier ignores it.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.gazetteer import ENTITY_SPANS
from bot.components.normalizer import StatelessComponent, is_payload

ENTITY = "appointment_ref"
# Six characters of the reference alphabet (lower case: the text is normalised), one of them a
# letter and one a digit, standing alone as a word.
_TOKEN = re.compile(r"(?<![0-9a-z])(?=[a-hj-np-z2-9]*[2-9])(?=[a-hj-np-z2-9]*[a-hj-np-z])[a-hj-np-z2-9]{6}(?![0-9a-z])")
# Words that name a reference (as ge_text.normalize writes them).
_CUES = re.compile(r"(?<!\w)(ref|refs|reference|references|referance|المرجع|مرجع|لمرجع|رقم المرجع)(?!\w)")


def find_references(text: str, *, expected: bool) -> list[tuple[int, int]]:
    """Spans of the references in a normalised text: any reference-shaped token when one is
    expected, else only in a message that names it."""
    if not expected and not _CUES.search(text):
        return []
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class AppointmentReferenceExtractor(StatelessComponent, EntityExtractorMixin):
    """Extracts `appointment_ref` (upper case, as the backend writes it)."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The references annotated in training examples become spans, as at inference.
        for message in training_data.training_examples:
            annotated = [(ENTITY, e["start"], e["end"]) for e in message.get(ENTITIES) or []
                         if e.get("entity") == ENTITY and "start" in e and "end" in e]
            if annotated:
                message.set(ENTITY_SPANS, [*(message.get(ENTITY_SPANS) or []), *annotated])
        return training_data

    def process(self, messages: list[Message], tracker: DialogueStateTracker | None = None) -> list[Message]:
        expected = tracker is not None and tracker.get_slot("requested_slot") == ENTITY
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or is_payload(text):
                continue
            spans = find_references(text, expected=expected)
            if not spans:
                continue
            message.set(ENTITY_SPANS, [*(message.get(ENTITY_SPANS) or []), *((ENTITY, s, e) for s, e in spans)])
            entities = [{"entity": ENTITY, "start": s, "end": e, "value": text[s:e].upper(), "confidence": 1.0,
                         "extractor": self.__class__.__name__} for s, e in spans]
            message.set(ENTITIES, [*message.get(ENTITIES, []), *entities], add_to_output=True)
        return messages
