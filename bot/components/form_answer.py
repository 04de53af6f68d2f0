"""While a form waits for an answer, a short message the intent classifier is unsure of is an answer.

Inside a form most messages answer its question, and short free-text answers ("ymken snack",
"Youssef Amrani", "f sla") are what the classifier, trained mostly on requests, knows least: it may
give one of them a question's intent with little confidence ("ymken snack": `ask_financing`,
0.48), and a rule then answers that question instead of letting the form read the answer. Here
such a message becomes `inform`: the form reads it, or says it did not understand and asks again.

Kept as classified, whatever their confidence: messages that already are answers, the ways out of
a form (stop, goodbye, a human, delete my data, another language), longer messages, and any
intent the classifier is sure of ("c'est gratuit ?" is answered by its rule and the form resumes).
Outside a conversation (the held-out evaluation) the tracker is None and nothing changes.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.normalizer import is_payload

ANSWER = "inform"
KEPT_INTENTS = frozenset({"inform", "affirm", "deny", "out_of_scope", "nlu_fallback",
                          "stop", "goodbye", "ask_human", "delete_my_data", "choose_language"})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FormAnswerIntent(GraphComponent):
    """Makes a short, unsure non-answer an `inform` while a form asks a question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Below this confidence a short message inside a form is taken as an answer.
        return {"threshold": 0.6, "max_words": 4}

    def __init__(self, config: dict[str, Any]) -> None:
        self._threshold = float(config["threshold"])
        self._max_words = int(config["max_words"])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FormAnswerIntent:
        return cls({**cls.get_default_config(), **config})

    def answer_expected(self, tracker: DialogueStateTracker | None) -> bool:
        return bool(tracker is not None and tracker.active_loop_name and tracker.get_slot("requested_slot"))

    def process(self, messages: list[Message], tracker: DialogueStateTracker | None = None) -> list[Message]:
        if not self.answer_expected(tracker):
            return messages
        for message in messages:
            text = message.get(TEXT)
            intent = message.get(INTENT) or {}
            confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            if (not isinstance(text, str) or is_payload(text) or intent.get(INTENT_NAME_KEY) in KEPT_INTENTS
                    or confidence >= self._threshold or len(text.split()) > self._max_words):
                continue
            answer = {INTENT_NAME_KEY: ANSWER, PREDICTED_CONFIDENCE_KEY: confidence}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != ANSWER]
            message.set(INTENT, answer, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [answer, *ranking], add_to_output=True)
        return messages
