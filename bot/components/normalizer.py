"""Normalise every message with ge_text.normalize before tokenisation, and put it back afterwards.

`TextNormalizer` runs first in the pipeline, on training examples and on incoming messages alike,
so that `ﺍﻟﺮﺑﺎﻁ`, `الربـــاط`, `بَالرِّبَاطِ` and `الرباط` are one string for every later component.
Entity annotations of training examples are moved onto the normalised text.

`OriginalTextRestorer` runs last: it gives the message back the text the user typed (actions read
`latest_message.text`, e.g. a full name whose case and accents matter) and moves the entities'
offsets back onto it. Button payloads (`/intent{...}`) are left untouched for RegexMessageHandler.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import ge_text
from ge_text import normalize
from ge_text.align import Alignment, align
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# Message attributes shared by the project's components (never part of the parse output).
ORIGINAL_TEXT = "ge_original_text"


def code_fingerprint() -> str:
    """A hash of the code of the project's components and of ge_text. Rasa reuses a cached
    component when its config and inputs are unchanged; a change of this code must retrain it."""
    digest = hashlib.sha256()
    for directory in (Path(__file__).parent, Path(ge_text.__file__).parent):
        for path in sorted(directory.glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def is_payload(text: str) -> bool:
    """Button payloads such as `/inform{"service":"business_plan"}` bypass NLU."""
    return text.lstrip().startswith("/")


def realign_entities(entities: list[dict[str, Any]], alignment: Alignment) -> list[dict[str, Any]]:
    """Annotations on the original text → the same annotations on the normalised text."""
    out = []
    for entity in entities:
        span = alignment.to_normalized(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
        if span is None:
            continue
        surface = alignment.original[entity[ENTITY_ATTRIBUTE_START] : entity[ENTITY_ATTRIBUTE_END]]
        moved = {**entity, ENTITY_ATTRIBUTE_START: span[0], ENTITY_ATTRIBUTE_END: span[1]}
        if entity.get(ENTITY_ATTRIBUTE_VALUE) == surface:
            moved[ENTITY_ATTRIBUTE_VALUE] = alignment.normalized[span[0] : span[1]]
        out.append(moved)
    return out


class StatelessComponent(GraphComponent):
    """A graph component with no configuration and nothing to persist."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class TextNormalizer(StatelessComponent):
    """Replaces the message text by its ge_text normal form (training and inference alike)."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return code_fingerprint()

    @staticmethod
    def normalize_message(message: Message, *, training: bool) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or is_payload(text):
            return
        # Kept for the restorer, and for the intent classifier's emoji and "?" features.
        message.set(ORIGINAL_TEXT, text)
        if training and message.get(ENTITIES):
            alignment = align(text)
            message.set(TEXT, alignment.normalized)
            message.set(ENTITIES, realign_entities(message.get(ENTITIES), alignment))
        else:
            # At inference the alignment is computed by the restorer, only if an entity needs it.
            message.set(TEXT, normalize(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self.normalize_message(message, training=True)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self.normalize_message(message, training=False)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class OriginalTextRestorer(StatelessComponent):
    """Puts back the text as typed and maps entity offsets onto it (last in the pipeline)."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            original = message.get(ORIGINAL_TEXT)
            if not isinstance(original, str):
                continue
            entities = message.get(ENTITIES) or []
            alignment = align(original) if entities else None
            moved = []
            for entity in entities:
                start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
                if alignment and isinstance(start, int) and isinstance(end, int) and end > start:
                    start, end = alignment.to_original(start, end)
                    entity = {**entity, ENTITY_ATTRIBUTE_START: start, ENTITY_ATTRIBUTE_END: end}
                moved.append(entity)
            if moved:
                message.set(ENTITIES, moved, add_to_output=True)
            message.set(TEXT, original)
        return messages
