"""Service discovery: the plan's catalogue, fetched from the backend in the user's language, each
service with a button that starts booking an appointment for it. And "is it free?"."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendRejected, BackendUnavailable, get_client
from actions.language import language_of
from actions.programs import BUTTON_TITLE_MAX, answer_financing, asks_amount_given, short_name


class ActionListServices(Action):
    def name(self) -> str:
        return "action_list_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        try:
            services = await get_client().services(lang=lang)
        except (BackendUnavailable, BackendRejected):
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        lines = "\n".join(f"{i}. {s.name} — {s.description}" for i, s in enumerate(services, start=1))
        dispatcher.utter_message(response="utter_services_intro", services=lines)
        buttons = [
            {"title": short_name(s.name)[:BUTTON_TITLE_MAX],
             "payload": "/book_appointment" + json.dumps({"service": s.id}, separators=(",", ":"))}
            for s in services
        ]
        if buttons:
            dispatcher.utter_message(response="utter_services_book_prompt", buttons=buttons)
        return []


class ActionCost(Action):
    """"Is it free?": yes, always, and nobody may ask for money. "How much do they lend?", which
    the classifier takes for the same question, gets the financing answer."""

    def name(self) -> str:
        return "action_cost"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if asks_amount_given(tracker.latest_message.get("text") or ""):
            return await answer_financing(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_free_of_charge")
        return []
