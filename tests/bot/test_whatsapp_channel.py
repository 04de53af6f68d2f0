"""The WhatsApp channel over real HTTP: a Sanic server with the channel's blueprint, requests signed
by twilio's own RequestValidator, and replies sent through twilio's REST client to a local
recorder (tests/e2e/twilio_recorder.py). A scripted bot stands in for Rasa's agent; the real
conversation is exercised by tests/e2e/test_whatsapp.py."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from twilio.request_validator import RequestValidator

from bot.channels.choices import OfferStore, match_choice, options_from_events
from bot.channels.formatting import MAX_BODY, Option, body_length, render_buttons, split_message
from bot.channels.whatsapp import MEDIA_TEXTS, Settings, WhatsAppInput, parse_inbound

from twilio_recorder import TwilioRecorder

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "test-twilio-auth-token"
BUSINESS = "whatsapp:+14155238886"
PREFIX = "/webhooks/whatsapp"

SERVICES = [
    {"title": "Information et orientation", "payload": '/inform{"service":"information_orientation"}'},
    {"title": "Business plan", "payload": '/inform{"service":"business_plan"}'},
    {"title": "Financement", "payload": '/inform{"service":"financing"}'},
]
NEAREST = "L'agence la plus proche : Agence ANAPEC Tanger (2,1 km)."
LONG_LINES = [f"{i:03d}. Programme d'accompagnement numéro {i} : formation, suivi et orientation 🙂"
              for i in range(1, 81)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_phone() -> str:
    return "+2126" + str(uuid.uuid4().int)[:8]


@dataclass
class ScriptedBot:
    """Stands in for `agent.handle_message`: records what the channel hands over and answers
    through the channel's output, like Rasa does."""

    received: list[UserMessage] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delays.get(message.text or "", 0))
        out, sender, text = message.output_channel, message.sender_id, message.text or ""
        if text.startswith("/share_location"):
            await out.send_response(sender, {"text": NEAREST})
        elif text == "bghit maw3id":
            await out.send_response(sender, {"text": "Chno lkhidma li bghiti?", "buttons": [dict(b) for b in SERVICES]})
        elif text == "long":
            await out.send_response(sender, {"text": "\n".join(LONG_LINES)})
        else:
            await out.send_response(sender, {"text": f"echo: {text}"})


@dataclass
class Harness:
    channel: WhatsAppInput
    bot: ScriptedBot
    recorder: TwilioRecorder
    port: int
    app: Sanic

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}/webhook"

    async def post(self, form: dict[str, str], *, url: str | None = None, signature: str | None = None,
                   token: str = AUTH_TOKEN) -> httpx.Response:
        """POST like Twilio: form-encoded, signed for `url` (default: the address called)."""
        if signature is None:
            signature = RequestValidator(token).compute_signature(url or self.url, form)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(self.url, data=form, headers=headers)

    async def say(self, phone: str, body: str = "", **fields: str) -> httpx.Response:
        form = {"From": f"whatsapp:{phone}", "To": BUSINESS, "WaId": phone.lstrip("+"), "ProfileName": "Youssef",
                "Body": body, "NumMedia": "0", "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID,
                "SmsStatus": "received", **fields}
        answer = await self.post(form)
        assert answer.status_code == 200, answer.text
        await self.channel.idle(timeout=20)
        return answer


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several apps in one process: Sanic's test mode keeps its start-up rewriting repeatable.
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def recorder() -> Iterator[TwilioRecorder]:
    with TwilioRecorder(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as running:
        yield running


def settings_for(recorder: TwilioRecorder, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, whatsapp_from=BUSINESS,
                                  api_base_url=recorder.url, retry_backoff_seconds=0.01)
    values.update(overrides)
    return Settings(**values)


async def serve(channel: WhatsAppInput, recorder: TwilioRecorder, agent: Any = None) -> Harness:
    bot = ScriptedBot()
    app = Sanic(f"whatsapp_test_{uuid.uuid4().hex[:10]}")
    app.ctx.agent = agent
    app.blueprint(channel.blueprint(bot), url_prefix=PREFIX)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    app.ctx.test_server = server
    return Harness(channel=channel, bot=bot, recorder=recorder, port=port, app=app)


async def stop(harness: Harness) -> None:
    server = harness.app.ctx.test_server
    await server.before_stop()
    await server.close()
    await server.after_stop()


@pytest_asyncio.fixture
async def wa(recorder: TwilioRecorder) -> AsyncIterator[Harness]:
    harness = await serve(WhatsAppInput(settings_for(recorder)), recorder)
    yield harness
    await stop(harness)


async def store_with(domain_slots: bool, *trackers: DialogueStateTracker) -> InMemoryTrackerStore:
    domain = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}}
                              if domain_slots else {})
    store = InMemoryTrackerStore(domain)
    for tracker in trackers:
        await store.save(tracker)
    return store


@dataclass
class FakeAgent:
    tracker_store: InMemoryTrackerStore


# ------------------------------------------------------------------------------------ signatures


@pytest.mark.asyncio
async def test_a_forged_or_unsigned_request_is_refused(wa: Harness) -> None:
    phone = new_phone()
    form = {"From": f"whatsapp:{phone}", "WaId": phone[1:], "Body": "salam", "MessageSid": "SMforged1"}
    assert (await wa.post(form, signature="")).status_code == 403
    assert (await wa.post(form, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 403
    assert (await wa.post(form, token="somebody-elses-token")).status_code == 403
    # Signed for one message, sent with another body: the signature covers every field.
    signed = RequestValidator(AUTH_TOKEN).compute_signature(wa.url, form)
    assert (await wa.post({**form, "Body": "bghit nlghi lmaw3id"}, signature=signed)).status_code == 403
    await wa.channel.idle(timeout=5)
    assert wa.bot.received == []
    assert wa.recorder.sent_to(phone) == []


@pytest.mark.asyncio
async def test_behind_a_proxy_the_configured_public_url_is_the_one_checked(recorder: TwilioRecorder) -> None:
    public = "https://bot.example.ma/webhooks/whatsapp/webhook"
    harness = await serve(WhatsAppInput(settings_for(recorder, webhook_url=public)), recorder)
    try:
        phone = new_phone()
        form = {"From": f"whatsapp:{phone}", "WaId": phone[1:], "Body": "salam", "MessageSid": "SM" + uuid.uuid4().hex}
        assert (await harness.post(form)).status_code == 403  # signed for the internal address
        assert (await harness.post(form, url=public)).status_code == 200
        await harness.channel.idle(timeout=10)
        assert [m.text for m in harness.bot.received] == ["salam"]
    finally:
        await stop(harness)


@pytest.mark.asyncio
async def test_without_an_auth_token_every_request_is_refused(recorder: TwilioRecorder) -> None:
    harness = await serve(WhatsAppInput(Settings()), recorder)
    try:
        form = {"From": "whatsapp:+212600000001", "Body": "salam"}
        signature = RequestValidator("").compute_signature(harness.url, form)
        assert (await harness.post(form, signature=signature)).status_code == 403
    finally:
        await stop(harness)


# ------------------------------------------------------------------------------------ inbound


@pytest.mark.asyncio
async def test_a_text_reaches_the_bot_with_the_phone_as_sender_and_whatsapp_metadata(wa: Harness) -> None:
    phone = new_phone()
    answer = await wa.say(phone, "salam khoya", ProfileName="Salma B.")
    assert "<Response>" in answer.text and answer.headers["content-type"].startswith("text/xml")
    (message,) = wa.bot.received
    assert message.sender_id == phone and message.text == "salam khoya"
    assert message.input_channel == "whatsapp"
    assert message.metadata["channel"] == "whatsapp"
    assert message.metadata["phone"] == phone
    assert message.metadata["profile_name"] == "Salma B."
    (reply,) = wa.recorder.wait_for(phone, 1)
    assert reply.body == "echo: salam khoya"
    assert reply.to == f"whatsapp:{phone}" and reply.from_ == BUSINESS


@pytest.mark.asyncio
async def test_twilio_is_answered_before_the_bot_has_finished(wa: Harness) -> None:
    phone = new_phone()
    wa.bot.delays["slow question"] = 1.5
    form = {"From": f"whatsapp:{phone}", "WaId": phone[1:], "Body": "slow question",
            "MessageSid": "SM" + uuid.uuid4().hex}
    started = time.monotonic()
    assert (await wa.post(form)).status_code == 200
    assert time.monotonic() - started < 1.0
    assert wa.recorder.sent_to(phone) == []
    await wa.channel.idle(timeout=10)
    assert [m.body for m in wa.recorder.sent_to(phone)] == ["echo: slow question"]


@pytest.mark.asyncio
async def test_messages_of_one_person_are_handled_and_answered_in_order(wa: Harness) -> None:
    phone = new_phone()
    wa.bot.delays.update({"first": 0.6, "second": 0.2})
    for body in ("first", "second", "third"):
        form = {"From": f"whatsapp:{phone}", "WaId": phone[1:], "Body": body, "MessageSid": "SM" + uuid.uuid4().hex}
        assert (await wa.post(form)).status_code == 200
    await wa.channel.idle(timeout=20)
    assert [m.text for m in wa.bot.received] == ["first", "second", "third"]
    assert [m.body for m in wa.recorder.sent_to(phone)] == ["echo: first", "echo: second", "echo: third"]


@pytest.mark.asyncio
async def test_a_message_twilio_delivers_twice_is_handled_once(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "salam", MessageSid="SMsame0001")
    await wa.say(phone, "salam", MessageSid="SMsame0001")
    assert len(wa.bot.received) == 1


@pytest.mark.asyncio
async def test_a_delivery_status_callback_is_not_a_message(wa: Harness) -> None:
    form = {"From": BUSINESS, "To": "whatsapp:+212600000002", "MessageStatus": "delivered", "MessageSid": "SMstatus1"}
    assert (await wa.post(form)).status_code == 200
    await wa.channel.idle(timeout=5)
    assert wa.bot.received == []


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["fr", "ar", "ary", "ary_latn"])
async def test_a_voice_note_gets_the_polite_text_in_the_conversations_language(recorder: TwilioRecorder,
                                                                                language: str) -> None:
    phone = new_phone()
    tracker = DialogueStateTracker.from_events(phone, [UserUttered("salam"), SlotSet("language", language)])
    harness = await serve(WhatsAppInput(settings_for(recorder)), recorder, FakeAgent(await store_with(True, tracker)))
    try:
        await harness.say(phone, "", NumMedia="1", MediaContentType0="audio/ogg",
                          MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/x/Messages/y/Media/z")
        (reply,) = recorder.wait_for(phone, 1)
        assert reply.body == MEDIA_TEXTS[language]
        assert harness.bot.received == []  # nothing to understand: Rasa is not bothered
    finally:
        await stop(harness)


@pytest.mark.asyncio
async def test_a_first_message_that_is_an_image_is_answered_from_the_profile_name(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "", ProfileName="يوسف العلمي", NumMedia="1", MediaContentType0="image/jpeg")
    assert recorder_bodies(wa, phone) == [MEDIA_TEXTS["ar"]]
    other = new_phone()
    await wa.say(other, "", ProfileName="Youssef", NumMedia="1", MediaContentType0="application/pdf")
    assert recorder_bodies(wa, other) == [MEDIA_TEXTS["fr"]]


@pytest.mark.asyncio
async def test_a_document_with_a_caption_gets_the_polite_text_then_the_caption_is_answered(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "bghit nakhod maw3id 3afak", NumMedia="1", MediaContentType0="application/pdf")
    assert recorder_bodies(wa, phone) == [MEDIA_TEXTS["ary_latn"], "echo: bghit nakhod maw3id 3afak"]
    assert wa.bot.received[0].metadata["media"] == ["application/pdf"]


@pytest.mark.asyncio
async def test_a_shared_location_asks_for_the_nearest_agency(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "", Latitude="35.7595", Longitude="-5.8340", Address="Bd Mohammed V, Tanger", Label="Maison")
    (message,) = wa.bot.received
    assert message.text == '/share_location{"lat":35.7595,"lon":-5.834}'
    assert message.metadata["location"] == {"lat": 35.7595, "lon": -5.834, "address": "Bd Mohammed V, Tanger",
                                            "label": "Maison"}
    assert recorder_bodies(wa, phone) == [NEAREST]


@pytest.mark.asyncio
async def test_a_quick_reply_button_sends_its_payload(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "Oui", ButtonPayload="/affirm", ButtonText="Oui")
    (message,) = wa.bot.received
    assert message.text == "/affirm"
    assert message.metadata["choice"] == {"title": "Oui", "source": "button"}


# ------------------------------------------------------------------------------------ outbound


@pytest.mark.asyncio
async def test_buttons_become_a_numbered_list_and_a_number_picks_the_option(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "bghit maw3id")
    (offer,) = wa.recorder.wait_for(phone, 1)
    assert offer.body == ("Chno lkhidma li bghiti?\n\n1. Information et orientation\n2. Business plan\n3. Financement")
    assert "/inform" not in (offer.body or "")
    await wa.say(phone, "2")
    assert wa.bot.received[-1].text == '/inform{"service":"business_plan"}'
    assert wa.bot.received[-1].metadata["choice"] == {"number": 2, "title": "Business plan", "typed": "2",
                                                      "source": "numbered_list"}


@pytest.mark.asyncio
@pytest.mark.parametrize("typed, payload", [
    ("٣", '/inform{"service":"financing"}'),
    (" 1. ", '/inform{"service":"information_orientation"}'),
    ("business PLAN", '/inform{"service":"business_plan"}'),
    ("2. Business plan", '/inform{"service":"business_plan"}'),
    ("7", "7"),
    ("fes", "fes"),
])
async def test_typed_answers_to_a_list(wa: Harness, typed: str, payload: str) -> None:
    phone = new_phone()
    await wa.say(phone, "bghit maw3id")
    await wa.say(phone, typed)
    assert wa.bot.received[-1].text == payload


@pytest.mark.asyncio
async def test_a_number_after_a_turn_without_buttons_is_plain_text(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "bghit maw3id")
    await wa.say(phone, "fes")  # answered without buttons: the list is no longer on offer
    await wa.say(phone, "2")
    assert wa.bot.received[-1].text == "2"


@pytest.mark.asyncio
async def test_after_a_restart_the_offer_is_read_back_from_the_tracker(recorder: TwilioRecorder) -> None:
    phone = new_phone()
    tracker = DialogueStateTracker.from_events(phone, [
        UserUttered("bghit maw3id"), BotUttered("Chno lkhidma li bghiti?", data={"buttons": SERVICES}),
    ])
    harness = await serve(WhatsAppInput(settings_for(recorder)), recorder, FakeAgent(await store_with(False, tracker)))
    try:
        await harness.say(phone, "3")
        assert harness.bot.received[-1].text == '/inform{"service":"financing"}'
    finally:
        await stop(harness)


@pytest.mark.asyncio
async def test_the_tracker_wins_over_this_process_memory(recorder: TwilioRecorder) -> None:
    # Two Rasa instances behind one webhook: the previous turn may have been answered by the other.
    phone, other = new_phone(), new_phone()
    offered = DialogueStateTracker.from_events(phone, [
        UserUttered("bghit maw3id"), BotUttered("Chno lkhidma li bghiti?", data={"buttons": SERVICES})])
    plain = DialogueStateTracker.from_events(other, [
        UserUttered("bghit maw3id"), BotUttered("?", data={"buttons": SERVICES}), UserUttered("fes"),
        BotUttered("B smiya dyal chkoun?")])
    channel = WhatsAppInput(settings_for(recorder))
    for sender in (phone, other):
        channel.offers.remember(sender, [Option("Stale", "/stale")])
    harness = await serve(channel, recorder, FakeAgent(await store_with(False, offered, plain)))
    try:
        await harness.say(phone, "1")
        await harness.say(other, "1")
        assert [m.text for m in harness.bot.received] == ['/inform{"service":"information_orientation"}', "1"]
    finally:
        await stop(harness)


@pytest.mark.asyncio
async def test_a_long_reply_is_split_below_the_limit_in_order(wa: Harness) -> None:
    phone = new_phone()
    await wa.say(phone, "long")
    parts = wa.recorder.sent_to(phone)
    assert len(parts) >= 3
    assert all(body_length(p.body or "") <= MAX_BODY for p in parts)
    assert "\n".join(p.body or "" for p in parts).split("\n") == LONG_LINES  # every line, once, in order


@pytest.mark.asyncio
async def test_a_failed_send_is_retried_then_delivered_once(wa: Harness) -> None:
    phone = new_phone()
    wa.recorder.fail_next(2, status=503)
    await wa.say(phone, "salam")
    assert recorder_bodies(wa, phone) == ["echo: salam"]
    assert len(wa.recorder.rejected) == 2


@pytest.mark.asyncio
async def test_a_refused_message_is_logged_not_retried(wa: Harness, caplog: pytest.LogCaptureFixture) -> None:
    phone = new_phone()
    wa.recorder.fail_next(1, status=400)
    with caplog.at_level(logging.ERROR, logger="bot.channels.whatsapp"):
        await wa.say(phone, "salam")
    assert wa.recorder.sent_to(phone) == [] and len(wa.recorder.rejected) == 1
    assert "not sent after 1 attempt" in caplog.text and phone not in caplog.text  # the phone is masked


@pytest.mark.asyncio
async def test_sending_gives_up_after_the_configured_attempts(recorder: TwilioRecorder) -> None:
    harness = await serve(WhatsAppInput(settings_for(recorder, send_attempts=3)), recorder)
    try:
        phone = new_phone()
        recorder.fail_next(5, status=500)
        await harness.say(phone, "salam")
        assert recorder.sent_to(phone) == [] and len(recorder.rejected) == 3
    finally:
        await stop(harness)


@pytest.mark.asyncio
async def test_without_twilio_credentials_replies_are_logged_not_sent(recorder: TwilioRecorder,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    harness = await serve(WhatsAppInput(Settings(auth_token=AUTH_TOKEN, api_base_url=recorder.url)), recorder)
    try:
        phone = new_phone()
        with caplog.at_level(logging.INFO, logger="bot.channels.whatsapp"):
            await harness.say(phone, "salam")
        assert "development mode" in caplog.text and "echo: salam" in caplog.text
        assert recorder.messages == [] and recorder.rejected == []
    finally:
        await stop(harness)


@pytest.mark.asyncio
async def test_health_says_whether_replies_are_sent(wa: Harness) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{wa.port}{PREFIX}/")
    assert answer.json() == {"status": "ok", "sending": "twilio"}


def recorder_bodies(harness: Harness, phone: str) -> list[str | None]:
    return [m.body for m in harness.recorder.sent_to(phone)]


# ------------------------------------------------------------------------------------ units


def test_split_keeps_every_character_in_order_and_prefers_line_breaks() -> None:
    text = "\n".join(LONG_LINES)
    parts = split_message(text)
    assert all(body_length(p) <= MAX_BODY for p in parts)
    assert "\n".join(parts) == text
    assert all(p.split("\n")[-1] in LONG_LINES for p in parts)  # no line cut in two


def test_split_cuts_a_long_line_between_words_and_a_huge_word_anywhere() -> None:
    words = " ".join(f"kalima{i}" for i in range(600))
    parts = split_message(words, limit=200)
    assert all(len(p) <= 200 for p in parts) and " ".join(parts) == words
    blob = "x" * 450
    assert split_message(blob, limit=200) == ["x" * 200, "x" * 200, "x" * 50]


def test_lengths_count_emojis_as_twilio_does() -> None:
    text = "🙂" * 1000  # 2,000 UTF-16 units
    parts = split_message(text)
    assert [body_length(p) for p in parts] == [1600, 400]
    assert "".join(parts) == text


def test_render_buttons_numbers_options_and_lists_links_last() -> None:
    body, options = render_buttons("Choisissez :", [*SERVICES[:2], {"title": "Site", "url": "https://anapec.ma"}])
    assert body == "Choisissez :\n\n1. Information et orientation\n2. Business plan\nSite: https://anapec.ma"
    assert [o.payload for o in options] == [SERVICES[0]["payload"], SERVICES[1]["payload"]]


def test_match_choice_needs_a_single_unambiguous_option() -> None:
    options = [Option("Fès", "/inform{\"city\":\"fes\"}"), Option("Fès", "/x"), Option("Rabat", "/r")]
    assert match_choice("fes", options) is None
    assert match_choice("rabat", options) == (3, options[2])
    assert match_choice("0", options) is None
    assert match_choice("2️⃣", options) == (2, options[1])


def test_offer_store_is_bounded_and_forgets_old_offers() -> None:
    now = [0.0]
    store = OfferStore(max_senders=2, ttl_seconds=10, clock=lambda: now[0])
    for sender in ("a", "b", "c"):
        store.remember(sender, [Option("x", "/x")])
    assert len(store) == 2 and store.get("a") is None
    now[0] = 11
    assert store.get("b") == []


def test_offer_from_events_is_the_last_bot_turn_only() -> None:
    events = [UserUttered("bghit maw3id"), BotUttered("?", data={"buttons": SERVICES}), UserUttered("fes"),
              BotUttered("Merci")]
    assert options_from_events(events) == []
    assert [o.title for o in options_from_events(events[:2])] == [b["title"] for b in SERVICES]


def test_settings_come_from_the_environment_and_credentials_win() -> None:
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_WHATSAPP_FROM": "+14155238886",
           "WHATSAPP_SEND_ATTEMPTS": "2", "TWILIO_TIMEOUT_SECONDS": "3", "TWILIO_API_BASE_URL": ""}
    settings = Settings.load({"webhook_url": "https://bot.example.ma/webhooks/whatsapp/webhook", "auth_token": ""}, env)
    assert settings.can_send and settings.whatsapp_from == BUSINESS and settings.send_attempts == 2
    assert settings.auth_token == "t" and settings.webhook_url.startswith("https://bot.example.ma")
    assert settings.timeout_seconds == 3.0 and settings.api_base_url == "https://api.twilio.com"
    assert not Settings.load(None, {}).can_send
    with pytest.raises(ValueError, match="TWILIO_TIMEOUT_SECONDS"):
        Settings.load(None, {"TWILIO_TIMEOUT_SECONDS": "0"})


def test_parse_inbound_prefers_wa_id_and_refuses_odd_senders() -> None:
    assert parse_inbound({"From": "whatsapp:+212612345678", "WaId": "212612345678"}).sender == "+212612345678"  # type: ignore[union-attr]
    assert parse_inbound({"From": "+212612345678", "Body": "sms"}) is None
    assert parse_inbound({"From": "whatsapp:hello"}) is None
    bad_location = parse_inbound({"From": "whatsapp:+212612345678", "Latitude": "123", "Longitude": "5"})
    assert bad_location is not None and bad_location.location is None


def test_the_credentials_file_loads_the_channel_without_any_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.run import create_http_input_channels

    for variable in Settings._ENV.values():
        monkeypatch.delenv(variable, raising=False)
    channels = {c.name(): c for c in create_http_input_channels(None, "bot/credentials.yml")}
    assert isinstance(channels["whatsapp"], WhatsAppInput)
    assert channels["whatsapp"].url_prefix() == "whatsapp"
    assert not channels["whatsapp"].settings.can_send


@pytest.mark.asyncio
async def test_the_development_simulator_posts_a_webhook_the_channel_accepts(wa: Harness,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels import simulate

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.delenv("TWILIO_WEBHOOK_URL", raising=False)
    phone = new_phone()
    assert await asyncio.to_thread(simulate.main, ["--from", phone, "--url", wa.url, "--location", "34.02,-6.83"]) == 0
    await wa.channel.idle(timeout=10)
    assert [m.text for m in wa.bot.received] == ['/share_location{"lat":34.02,"lon":-6.83}']
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token")
    assert await asyncio.to_thread(simulate.main, ["--from", phone, "--url", wa.url, "salam"]) == 1
