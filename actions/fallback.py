"""The two-stage fallback: the likely intents as buttons, then the offer of a human adviser.

Rasa's action_two_stage_fallback calls action_default_ask_affirmation when the NLU is unsure
(nlu_fallback), action_default_ask_rephrase after "none of these" (payload /out_of_scope), and
action_default_fallback when it gives up. The first and the last are overridden here.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.language import language_of, localized_custom

MAX_SUGGESTIONS = 3
# Below this the NLU's guess is noise: better to ask to rephrase than to suggest it.
MIN_CONFIDENCE = 0.05
# Entities worth carrying into the suggested payload, so that "fin anapec f tanja" said unclearly
# still brings Tanger's agency once the user picks "find an agency".
CARRIED_ENTITIES = ("city", "program")


def suggestions(tracker: Tracker, labels: dict[str, str]) -> list[str]:
    """The most likely intents of the latest message that can be offered (those with a label)."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    out: list[str] = []
    for item in ranking:
        name = item.get("name")
        if name in labels and name != "other" and name not in out and (item.get("confidence") or 0) >= MIN_CONFIDENCE:
            out.append(name)
    return out[:MAX_SUGGESTIONS]


def _payload(intent: str, tracker: Tracker) -> str:
    entities = {
        e["entity"]: e["value"]
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") in CARRIED_ENTITIES and isinstance(e.get("value"), str)
    }
    # Picking a suggestion makes Rasa rewind the misunderstood message, and the slots it set with
    # it (the language among them): the payload sets the language again.
    entities["language"] = language_of(tracker)
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


class ActionDefaultAskAffirmation(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        labels: dict[str, str] = localized_custom(domain, "utter_intent_labels", language_of(tracker)).get("labels", {})
        intents = suggestions(tracker, labels)
        if not intents:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        buttons = [{"title": labels[intent], "payload": _payload(intent, tracker)} for intent in intents]
        # /out_of_scope is how Rasa's two-stage fallback hears "none of these".
        buttons.append({"title": labels.get("other", "…"), "payload": _payload("out_of_scope", tracker)})
        dispatcher.utter_message(response="utter_ask_affirmation", buttons=buttons)
        return []


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_default")
        # Like Rasa's own: the misunderstood message must not steer the next predictions.
        return [UserUtteranceReverted()]
