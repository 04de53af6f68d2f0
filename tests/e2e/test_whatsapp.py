"""WhatsApp end to end: Twilio's webhook calls, signed with twilio's own RequestValidator, posted
to the real Rasa (with the real action server and backend), and the bot's replies caught by a
local stand-in for Twilio's REST API (twilio_recorder.py): nothing leaves the machine.

The stack of this module runs with the channel's settings (TWILIO_*, TWILIO_WEBHOOK_URL), so it
is its own, beside the session's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels.texts import MEDIA_TEXTS

from stack import Stack
from twilio_recorder import SentMessage, TwilioRecorder

ACCOUNT_SID = "AC" + "e2e0" * 8
AUTH_TOKEN = "e2e-twilio-auth-token"
BUSINESS = "whatsapp:+14155238886"
# Behind the production proxy Twilio calls this address, not Rasa's own: the channel must check
# signatures against it (TWILIO_WEBHOOK_URL).
PUBLIC_URL = "https://bot.generation-entrepreneurs.example/webhooks/whatsapp/webhook"
TANGER = ("35.7595", "-5.8340")
# An opening message in Darija, Latin script: it sets the conversation's language to ary_latn.
OPENER = "chno homa lkhadamat li kat9admo?"
LIST_LINE = re.compile(r"^(\d{1,2})\. (.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def recorder() -> Iterator[TwilioRecorder]:
    with TwilioRecorder(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def wa_stack(recorder: TwilioRecorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    database = Path(tmp_path_factory.mktemp("e2e-whatsapp")) / "e2e.db"
    running = Stack(database_url=f"sqlite:///{database}", extra_env={
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": BUSINESS,
        "TWILIO_API_BASE_URL": recorder.url,
        "TWILIO_WEBHOOK_URL": PUBLIC_URL,
        "WHATSAPP_RETRY_BACKOFF_SECONDS": "0.05",
    })
    try:
        running.start()
        yield running
    finally:
        running.stop()


class Person:
    """Somebody writing to the bot on WhatsApp: sends signed webhooks, reads what came back."""

    def __init__(self, stack: Stack, recorder: TwilioRecorder, profile_name: str = "Youssef") -> None:
        self.stack, self.recorder, self.profile_name = stack, recorder, profile_name
        self.phone = "+2126" + str(uuid.uuid4().int)[:8]
        self.read = 0

    @property
    def webhook(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/whatsapp/webhook"

    def post(self, form: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        if signature is None:
            signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL, form)
        return httpx.post(self.webhook, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)

    def form(self, body: str = "", **fields: str) -> dict[str, str]:
        return {"SmsMessageSid": (sid := "SM" + uuid.uuid4().hex), "MessageSid": sid, "AccountSid": ACCOUNT_SID,
                "From": f"whatsapp:{self.phone}", "To": BUSINESS, "WaId": self.phone[1:],
                "ProfileName": self.profile_name, "Body": body, "NumMedia": "0", "NumSegments": "1",
                "SmsStatus": "received", "ApiVersion": "2010-04-01", **fields}

    def send(self, body: str = "", **fields: str) -> list[SentMessage]:
        """Post a message; the bot's replies to it (once it has been quiet for a moment)."""
        answer = self.post(self.form(body, **fields))
        assert answer.status_code == 200, answer.text
        self.recorder.wait_for(self.phone, self.read + 1, timeout=60)
        replies = self.recorder.wait_quiet(self.phone, quiet=1.5, timeout=60)[self.read:]
        self.read += len(replies)
        return replies

    def tracker(self) -> dict[str, Any]:
        # Rasa does not unquote the path: the "+" goes as it is.
        answer = httpx.get(f"{self.stack.rasa_url}/conversations/{self.phone}/tracker", timeout=10)
        answer.raise_for_status()
        return dict(answer.json())

    def tracker_events(self) -> list[dict[str, Any]]:
        return list(self.tracker()["events"])

    def language(self) -> str | None:
        return self.tracker()["slots"].get("language")


def _text(replies: list[SentMessage]) -> str:
    return "\n".join(m.body or "" for m in replies)


def _options(replies: list[SentMessage]) -> dict[int, str]:
    """The numbered list the replies end with."""
    return {int(n): title for n, title in LIST_LINE.findall(replies[-1].body or "")} if replies else {}


def test_a_forged_webhook_is_refused(wa_stack: Stack, recorder: TwilioRecorder) -> None:
    person = Person(wa_stack, recorder)
    form = person.form("bghit nlghi lmaw3id")
    assert person.post(form, signature="").status_code == 403
    guessed = RequestValidator("guessed-token").compute_signature(PUBLIC_URL, form)
    assert person.post(form, signature=guessed).status_code == 403
    # Signed for Rasa's own address: not the public one Twilio uses, so not Twilio.
    local = RequestValidator(AUTH_TOKEN).compute_signature(person.webhook, form)
    assert person.post(form, signature=local).status_code == 403
    assert not [e for e in person.tracker_events() if e.get("event") == "user"]
    assert recorder.sent_to(person.phone) == []


def test_a_voice_note_gets_the_polite_text_in_the_conversations_language(wa_stack: Stack,
                                                                         recorder: TwilioRecorder) -> None:
    person = Person(wa_stack, recorder)
    person.send(OPENER)
    assert person.language() == "ary_latn"
    replies = person.send("", NumMedia="1", MediaContentType0="audio/ogg",
                          MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1")
    assert [m.body for m in replies] == [MEDIA_TEXTS["ary_latn"]]
    assert replies[0].from_ == BUSINESS and replies[0].to == f"whatsapp:{person.phone}"


def test_a_shared_location_gets_the_nearest_agency(wa_stack: Stack, recorder: TwilioRecorder) -> None:
    nearest = httpx.get(f"{wa_stack.backend_url}/api/v1/agencies/nearest",
                        params={"lat": TANGER[0], "lon": TANGER[1], "lang": "ary_latn"},
                        headers={"Authorization": f"Bearer {wa_stack.service_token}"}, timeout=10)
    nearest.raise_for_status()
    closest = nearest.json()["agencies"][0]
    person = Person(wa_stack, recorder)
    person.send(OPENER)
    replies = person.send("", Latitude=TANGER[0], Longitude=TANGER[1], Address="Bd Mohammed V, Tanger")
    assert closest["name"] in _text(replies)
    user_texts = [e.get("text") for e in person.tracker_events() if e.get("event") == "user"]
    assert user_texts[-1] == f'/share_location{{"lat":{float(TANGER[0])},"lon":{float(TANGER[1])}}}'


def test_a_whole_booking_in_darija_latin_script_by_numbered_answers(wa_stack: Stack, recorder: TwilioRecorder) -> None:
    person = Person(wa_stack, recorder, profile_name="Youssef Alami")
    transcript: list[str] = []
    replies = person.send("salam, bghit nakhod maw3id 3afak")
    numbered_answers = 0
    for _ in range(14):
        text = _text(replies)
        transcript.append(f"BOT: {text}")
        if "T7jez lik lmaw3id" in text:
            break
        options = _options(replies)
        if "F ina mdina" in text:
            answer = "tanja"
        elif "B smiya dyal chkoun" in text:
            answer = "Youssef Alami"
        elif "N2ekked" in text:
            # Confirm, and say yes to the WhatsApp reminder (the opt-in).
            answer = next(str(n) for n, title in options.items() if "WhatsApp" in title)
        elif options:
            answer = "1"  # the first service, agency, time slot...
        else:
            pytest.fail("the bot asked something this test cannot answer:\n" + "\n".join(transcript))
        numbered_answers += answer.isdigit()
        transcript.append(f"USER: {answer}")
        replies = person.send(answer)
    else:
        pytest.fail("no booking after 14 turns:\n" + "\n".join(transcript))

    assert numbered_answers >= 3, transcript  # service, agency, time slot (and the confirmation)
    reference = re.search(r"Référence dyalek: (\w+)", _text(replies))
    assert reference, transcript

    # Every numbered answer reached Rasa as the payload of the option it named.
    chosen = [e for e in person.tracker_events() if e.get("event") == "user"
              and ((e.get("metadata") or {}).get("choice") or {}).get("source") == "numbered_list"]
    assert len(chosen) == numbered_answers
    assert all(str(e.get("text", "")).startswith("/") for e in chosen)

    booked = httpx.get(f"{wa_stack.backend_url}/api/v1/appointments", params={"phone": person.phone},
                       headers={"Authorization": f"Bearer {wa_stack.service_token}"}, timeout=10)
    booked.raise_for_status()
    (appointment,) = [a for a in booked.json() if a["reference"] == reference.group(1)]
    assert appointment["phone"] == person.phone
    assert appointment["channel"] == "whatsapp" and appointment["language"] == "ary_latn"
    assert appointment["full_name"] == "Youssef Alami" and appointment["status"] == "booked"
    # The opt-in chosen at the confirmation reached the backend, which queued the confirmation
    # and the reminder for this person only.
    assert any(e.get("text", "").startswith('/affirm{"whatsapp_opt_in":"yes"}') for e in chosen), chosen


def test_a_person_who_starts_booking_can_turn_to_cancelling_their_appointment(wa_stack: Stack,
                                                                               recorder: TwilioRecorder) -> None:
    """Booked in Darija, back in French: "en fait je veux annuler mon rdv" in the middle of a new
    booking leaves it (nothing booked), offers that appointment, named in French, and cancels it."""
    person = Person(wa_stack, recorder)
    reference = wa_stack.book(person.phone, language="ary", channel="whatsapp")

    asked = _text(person.send("bonjour, je voudrais prendre un rendez-vous"))
    assert "Pour quel service" in asked, asked
    switched = _text(person.send("en fait je veux annuler mon rdv"))
    assert "rien n'a été réservé" in switched and reference in switched, switched
    assert "Information et orientation" in switched and "المعلومات" not in switched, switched
    done = _text(person.send("oui"))
    assert reference in done, done
    status = httpx.get(f"{wa_stack.backend_url}/api/v1/appointments/{reference}", timeout=10,
                       headers={"Authorization": f"Bearer {wa_stack.service_token}"}).json()["status"]
    assert status == "cancelled"
