"""Tells which of fr, ar, ary, ary_latn a message is written in, as a `language` entity.

The `language` slot is filled from this entity on every turn, so replies follow the user's
language and script. Messages that carry no language (a number, "ok", an emoji) produce no
entity and the slot keeps its value.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ge_text import detect_script, normalize, tokens

# Words that only Darija uses (after ge_text.normalize). A first cut, replaced by a classifier
# trained on the variety-tagged examples.
_ARY_WORDS = {"بغيت", "واش", "شنو", "فين", "ديال", "دابا", "عافاك", "كيفاش", "كاين", "كاينه", "بزاف", "خويا", "مزيان", "واخا", "صافي", "شحال", "علاش", "ديالي"}
_ARY_LATN_WORDS = {"salam", "slm", "bghit", "bghyt", "wach", "chno", "fin", "dyal", "daba", "3afak", "afak", "kifach", "kayn", "bzaf", "khoya", "mzyan", "wakha", "safi", "ch7al", "3lach", "dyali", "labas", "ahlan", "chokran", "choukran", "ana", "nta"}
_FR_WORDS = {"bonjour", "salut", "bonsoir", "je", "vous", "quels", "quel", "services", "merci", "est", "les", "des", "une", "pour", "avec", "oui", "non"}


def detect_language(text: str) -> str | None:
    """fr, ar, ary, ary_latn, or None when the message gives no clue."""
    norm = normalize(text)
    words = set(tokens(norm))
    script = detect_script(norm)
    if script == "arabic":
        return "ary" if words & _ARY_WORDS else "ar"
    if script == "latin":
        darija, french = len(words & _ARY_LATN_WORDS), len(words & _FR_WORDS)
        if darija and darija >= french:
            return "ary_latn"
        if french:
            return "fr"
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds a `language` entity to every message whose language can be told."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            language = detect_language(message.get(TEXT) or "")
            if language:
                entity = {"entity": "language", "value": language, "start": 0, "end": 0,
                          "confidence": 1.0, "extractor": self.__class__.__name__}
                message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
