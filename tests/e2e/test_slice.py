"""The foundation's vertical slice through the real services: greeting in each variety, and the
service catalogue fetched by an action from the backend over HTTP, listed in the user's language."""

from __future__ import annotations

import uuid

import httpx
import pytest

from stack import Stack

GREETINGS = {
    "fr": ("Bonjour", "Bonjour"),
    "ar": ("السلام عليكم ورحمة الله", "مرحبا"),
    "ary": ("السلام خويا، لاباس؟", "السلام"),
    "ary_latn": ("salam khoya labas", "Salam"),
}
SERVICE_QUESTIONS = {
    "fr": "quels services proposez-vous ?",
    "ar": "ما هي الخدمات التي تقدمونها؟",
    "ary": "شنو هوما الخدمات اللي كتقدمو؟",
    "ary_latn": "chno homa lkhadamat li kat9admo?",
}


def _texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


@pytest.mark.parametrize("lang", list(GREETINGS))
def test_a_greeting_is_answered_in_the_same_language_and_script(stack: Stack, lang: str) -> None:
    message, expected_start = GREETINGS[lang]
    replies = stack.say(f"e2e-greet-{lang}-{uuid.uuid4().hex[:6]}", message)
    assert replies, "the bot did not answer"
    assert _texts(replies).startswith(expected_start)


@pytest.mark.parametrize("lang", list(SERVICE_QUESTIONS))
def test_services_come_from_the_backend_in_the_users_language(stack: Stack, lang: str) -> None:
    catalogue = httpx.get(f"{stack.backend_url}/api/v1/services", params={"lang": lang}).json()
    text = _texts(stack.say(f"e2e-services-{lang}-{uuid.uuid4().hex[:6]}", SERVICE_QUESTIONS[lang]))
    for service in catalogue:
        assert service["name"] in text, f"{service['name']!r} missing from the bot's answer"
