"""Service discovery: the plan's catalogue, fetched from the backend in the user's language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import BackendUnavailable, get_client
from actions.language import language_of


class ActionListServices(Action):
    def name(self) -> str:
        return "action_list_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = language_of(tracker)
        try:
            services = await get_client().services(lang=lang)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        dispatcher.utter_message(response="utter_services_intro")
        lines = [f"{i}. {s.name}" for i, s in enumerate(services, start=1)]
        dispatcher.utter_message(text="\n".join(lines))
        return []
