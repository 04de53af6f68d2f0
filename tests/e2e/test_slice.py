"""The foundation's vertical slice through the real services: greeting in each variety, and the
service catalogue fetched by an action from the backend over HTTP, listed in the user's language."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize(("opening", "thanks", "expected"), [
    # A Darija conversation stays in Darija on a word MSA shares ...
    ("واش هادشي فابور؟", "شكرا", "بلا جميل!"),
    # ... and an MSA one in MSA,
    ("هل الخدمات مجانية؟", "شكرا", "على الرحب والسعة!"),
    # but a message that is clearly the other variety moves it.
    ("هل الخدمات مجانية؟", "شكرا بزاف", "بلا جميل!"),
])
def test_a_word_msa_and_darija_share_does_not_change_the_reply_variety(stack: Stack, opening: str, thanks: str,
                                                                       expected: str) -> None:
    sender = f"e2e-variety-{uuid.uuid4().hex[:6]}"
    stack.say(sender, opening)
    assert _texts(stack.say(sender, thanks)).startswith(expected)


@pytest.mark.parametrize("lang", list(SERVICE_QUESTIONS))
def test_services_come_from_the_backend_in_the_users_language(stack: Stack, lang: str) -> None:
    catalogue = httpx.get(f"{stack.backend_url}/api/v1/services", params={"lang": lang}).json()
    text = _texts(stack.say(f"e2e-services-{lang}-{uuid.uuid4().hex[:6]}", SERVICE_QUESTIONS[lang]))
    for service in catalogue:
        assert service["name"] in text, f"{service['name']!r} missing from the bot's answer"


def _new_number(prefix: str = "06") -> str:
    return f"{prefix}{uuid.uuid4().int % 10**8:08d}"


def _booked_web_visitor(stack: Stack, prefix: str = "06") -> tuple[str, str, str]:
    """A person's number, the reference of their appointment, and a new web conversation."""
    phone = _new_number(prefix)
    return phone, stack.book(phone), f"web-{uuid.uuid4().hex[:8]}"


def _status(stack: Stack, reference: str) -> str:
    found = httpx.get(f"{stack.backend_url}/api/v1/appointments/{reference}",
                      headers={"Authorization": f"Bearer {stack.service_token}"}, timeout=10)
    assert found.status_code == 200, found.text
    return str(found.json()["status"])


def test_on_the_web_an_appointment_is_shown_only_with_its_reference(stack: Stack) -> None:
    phone, reference, sender = _booked_web_visitor(stack)
    asked = _texts(stack.say(sender, "mes rendez-vous"))
    assert "numéro" in asked.lower() or "téléphone" in asked.lower(), asked
    # The number alone: the reference is asked for, and nothing about the appointment is told.
    after_phone = _texts(stack.say(sender, phone))
    assert "référence" in after_phone and reference not in after_phone, after_phone
    # A wrong reference is refused, the right one shows that appointment.
    wrong = "ZZ99ZZ" if reference != "ZZ99ZZ" else "ZZ98ZZ"
    refused = _texts(stack.say(sender, wrong))
    assert "Je ne trouve pas" in refused and reference not in refused, refused
    shown = _texts(stack.say(sender, f"ma référence est {reference.lower()}"))
    assert reference in shown, shown


def test_on_the_web_another_persons_reference_opens_nothing(stack: Stack) -> None:
    _, reference, sender = _booked_web_visitor(stack)
    stranger = _new_number()
    stack.say(sender, "annuler mon rendez-vous")
    stack.say(sender, stranger)
    refused = _texts(stack.say(sender, reference))
    assert "Je ne trouve pas" in refused, refused
    assert _status(stack, reference) == "booked"  # nothing was cancelled


def test_on_the_web_a_typed_number_erases_nothing(stack: Stack) -> None:
    victim, reference, sender = _booked_web_visitor(stack)
    stack.say(sender, "mes rendez-vous")
    stack.say(sender, victim)  # the number, without its reference
    stack.say(sender, "supprimer mes données")
    answer = _texts(stack.say(sender, "oui"))
    assert "Je n'ai rien effacé" in answer and victim not in answer.replace(" ", ""), answer
    assert _status(stack, reference) == "booked"


def test_on_the_web_the_number_and_its_reference_erase_the_persons_data(stack: Stack) -> None:
    phone, reference, sender = _booked_web_visitor(stack, "07")
    stack.say(sender, "mes rendez-vous")
    stack.say(sender, phone)
    assert reference in _texts(stack.say(sender, reference))
    assert "supprimer vos données" in _texts(stack.say(sender, "supprimer mes données"))
    before = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=10).text
    assert phone in before and reference in before  # what Rasa's tracker store held until now
    answer = _texts(stack.say(sender, "oui"))
    assert "C'est fait" in answer, answer
    assert _status(stack, reference) == "cancelled"
    # Rasa's tracker store no longer holds the conversation (bot/tracker_stores.py).
    after = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=10)
    assert after.status_code == 200 and phone not in after.text and reference not in after.text, after.text
    assert not [e for e in after.json()["events"] if e["event"] == "user"]


def test_on_the_web_a_reference_one_booked_oneself_erases_no_other_appointment(stack: Stack) -> None:
    # Someone books from the site with a stranger's number: they get that booking's reference,
    # which opens it, but erasing would cancel the stranger's own appointment too.
    phone, strangers, sender = _booked_web_visitor(stack)
    own = stack.book(phone, slot=-2)
    stack.say(sender, "mes rendez-vous")
    stack.say(sender, phone)
    assert own in _texts(stack.say(sender, own))
    stack.say(sender, "supprimer mes données")
    answer = _texts(stack.say(sender, "oui"))
    assert "Je n'ai rien effacé" in answer, answer
    assert _status(stack, strangers) == "booked" and _status(stack, own) == "booked"


def _first_payload(replies: list[dict[str, object]]) -> str:
    buttons = [b for r in replies for b in (r.get("buttons") or [])]  # type: ignore[union-attr]
    assert buttons, replies
    return str(buttons[0]["payload"])  # type: ignore[index]


def test_on_the_web_right_after_booking_the_person_can_erase_it(stack: Stack) -> None:
    # The reference was given to this conversation: it proves the number as opening it would.
    phone, sender = _new_number(), f"web-{uuid.uuid4().hex[:8]}"
    agencies = stack.say(sender, "Je voudrais un rendez-vous à Tanger pour un business plan")
    slots = stack.say(sender, _first_payload(agencies))
    stack.say(sender, _first_payload(slots))
    stack.say(sender, "Salma Benali")
    stack.say(sender, phone)
    booked = _texts(stack.say(sender, "oui"))
    assert "C'est réservé" in booked, booked
    reference = re.search(r"référence\W+([A-Z0-9]{6})", booked).group(1)  # type: ignore[union-attr]
    assert "supprimer vos données" in _texts(stack.say(sender, "supprimer mes données"))
    answer = _texts(stack.say(sender, "oui"))
    assert "C'est fait" in answer, answer
    assert _status(stack, reference) == "cancelled"


@pytest.mark.parametrize(("text", "agency"), [
    ("agence à Ksar El Kebir", "Larache"),  # the city entity's id, "ksar-el-kebir", has no name's spelling
    ("أقرب وكالة للقصر الكبير", "العرائش"),
    ("anapec f had l7ay dyal sidi moumen", "Casablanca"),
])
def test_the_nearest_agency_to_any_place_the_bot_recognises(stack: Stack, text: str, agency: str) -> None:
    answer = _texts(stack.say(f"web-{uuid.uuid4().hex[:8]}", text))
    assert "📍" in answer and agency in answer.split("\n")[0], answer
