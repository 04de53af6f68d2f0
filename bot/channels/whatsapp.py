"""WhatsApp through Twilio: the input channel Rasa serves at /webhooks/whatsapp/webhook.

Replaces Rasa's built-in `twilio` channel (design §6), which trusts any caller, loses locations,
media and profile names, shows button payloads and blocks the server while sending. Here:

- a request counts only if its `X-Twilio-Signature` is valid for the public URL Twilio called
  (`TWILIO_WEBHOOK_URL` behind a proxy), else 403;
- the sender is the person's phone in E.164 (`+2126…`), which is also the conversation id, and
  the message's metadata says `channel: whatsapp`, the phone and the WhatsApp profile name;
- a shared location becomes `/share_location{"lat": …, "lon": …}`; a voice note, image or document
  gets a polite "please type your question" in the user's language;
- buttons are shown as a numbered list, and a reply "2" (or the option's words) is sent to Rasa as
  the second option's payload;
- Twilio is answered at once; the message is handled in the background, one at a time per person
  (in order), and replies go out through Twilio's async REST client, split below 1,600 characters,
  retried a few times with backoff; without credentials (development) they are only logged.

Settings come from the environment (or the channel's entry in credentials.yml, which wins):
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_FROM, TWILIO_MESSAGING_SERVICE_SID,
TWILIO_API_BASE_URL, TWILIO_WEBHOOK_URL, TWILIO_TIMEOUT_SECONDS (the names the backend's notifier
reads too), WHATSAPP_SEND_ATTEMPTS, WHATSAPP_RETRY_BACKOFF_SECONDS.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.choices import OfferStore, match_choice, options_from_events
from bot.channels.formatting import Option, render_buttons, split_message
from bot.channels.texts import LANGUAGES, MEDIA_TEXTS
from bot.components.language import detect_language

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
TWILIO_API = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_TWILIO_HOST = re.compile(r"^https://api(?:\.[a-z0-9-]+)*\.twilio\.com", re.IGNORECASE)
# Twilio answers these with a temporary failure: worth another try. Other 4xx will fail again.
_RETRYABLE_STATUS = {408, 429}


@dataclass(frozen=True)
class Settings:
    account_sid: str = ""
    auth_token: str = ""
    whatsapp_from: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = TWILIO_API
    webhook_url: str = ""
    send_attempts: int = 4
    retry_backoff_seconds: float = 0.5
    timeout_seconds: float = 10.0

    _ENV: ClassVar[dict[str, str]] = {
        "account_sid": "TWILIO_ACCOUNT_SID",
        "auth_token": "TWILIO_AUTH_TOKEN",
        "whatsapp_from": "TWILIO_WHATSAPP_FROM",
        "messaging_service_sid": "TWILIO_MESSAGING_SERVICE_SID",
        "api_base_url": "TWILIO_API_BASE_URL",
        "webhook_url": "TWILIO_WEBHOOK_URL",
        "send_attempts": "WHATSAPP_SEND_ATTEMPTS",
        "retry_backoff_seconds": "WHATSAPP_RETRY_BACKOFF_SECONDS",
        "timeout_seconds": "TWILIO_TIMEOUT_SECONDS",
    }

    @classmethod
    def load(cls, credentials: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        """Credentials entry first, then the environment, then the development defaults."""
        environ = os.environ if environ is None else environ
        credentials = credentials or {}
        values: dict[str, Any] = {}
        for name, variable in cls._ENV.items():
            raw = credentials.get(name)
            if raw is None or str(raw).strip() == "":
                raw = environ.get(variable, "")
            raw = str(raw).strip()
            if raw:
                values[name] = raw
        try:
            if "send_attempts" in values:
                values["send_attempts"] = max(1, int(values["send_attempts"]))
            if "retry_backoff_seconds" in values:
                values["retry_backoff_seconds"] = max(0.0, float(values["retry_backoff_seconds"]))
            if "timeout_seconds" in values:
                values["timeout_seconds"] = float(values["timeout_seconds"])
                if values["timeout_seconds"] <= 0:
                    raise ValueError("not positive")
        except ValueError as exc:
            raise ValueError("WHATSAPP_SEND_ATTEMPTS, WHATSAPP_RETRY_BACKOFF_SECONDS and TWILIO_TIMEOUT_SECONDS "
                             "must be numbers (the timeout above 0)") from exc
        if values.get("whatsapp_from"):
            values["whatsapp_from"] = whatsapp_address(values["whatsapp_from"])
        return cls(**values)

    @property
    def can_send(self) -> bool:
        """Live sending needs the account, its token and a sender (number or messaging service)."""
        return bool(self.account_sid and self.auth_token and (self.whatsapp_from or self.messaging_service_sid))


def whatsapp_address(phone: str) -> str:
    """`whatsapp:+2126…`, the form Twilio wants in To and From."""
    phone = phone.strip()
    if phone.startswith("whatsapp:"):
        phone = phone[len("whatsapp:"):]
    return f"whatsapp:{phone if phone.startswith('+') else '+' + phone}"


def mask_phone(phone: str) -> str:
    """A phone number fit for logs: country and operator prefix, last two digits."""
    return phone[:5] + "*" * max(0, len(phone) - 7) + phone[-2:] if len(phone) > 7 else "***"


# ---------------------------------------------------------------------------------------- inbound


@dataclass(frozen=True)
class Inbound:
    """What a Twilio WhatsApp webhook says, already checked."""

    sender: str
    body: str = ""
    profile_name: str = ""
    wa_id: str = ""
    message_sid: str = ""
    to: str = ""
    media_types: tuple[str, ...] = ()
    location: dict[str, Any] | None = None
    button_payload: str = ""
    button_text: str = ""


def webhook_form(request: Request) -> RequestParameters:
    """The webhook's form fields, empty ones included: Twilio signs `Body=` of a voice note or a
    location, and Sanic's `request.form` drops blank values, which would break the signature."""
    if request.content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return RequestParameters()
    try:
        return RequestParameters(parse_qs(request.body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return RequestParameters()


def parse_inbound(form: Mapping[str, Any]) -> Inbound | None:
    """The message in a webhook's form fields, or None when it is not a user's WhatsApp message
    (a delivery status callback, an SMS, a malformed sender)."""

    def get(name: str) -> str:
        value = form.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value or "").strip()

    status = (get("MessageStatus") or get("SmsStatus")).lower()
    if status and status != "received":
        return None
    sender_address = get("From")
    if not sender_address.startswith("whatsapp:"):
        return None
    wa_id = get("WaId")
    sender = "+" + wa_id if wa_id.isdigit() else sender_address[len("whatsapp:"):]
    if not _E164.match(sender):
        return None

    try:
        count = int(get("NumMedia") or 0)
    except ValueError:
        count = 0
    media = tuple(get(f"MediaContentType{i}") or "application/octet-stream" for i in range(max(0, min(count, 10))))

    location: dict[str, Any] | None = None
    lat, lon = _coordinate(get("Latitude"), 90), _coordinate(get("Longitude"), 180)
    if lat is not None and lon is not None:
        location = {"lat": lat, "lon": lon}
        for key, name in (("address", "Address"), ("label", "Label")):
            if get(name):
                location[key] = get(name)

    return Inbound(
        sender=sender,
        body=get("Body"),
        profile_name=get("ProfileName"),
        wa_id=wa_id,
        message_sid=get("MessageSid") or get("SmsMessageSid"),
        to=get("To"),
        media_types=media,
        location=location,
        # Quick-reply buttons send ButtonPayload; list pickers send ListId.
        button_payload=get("ButtonPayload") or get("ListId"),
        button_text=get("ButtonText") or get("ListTitle"),
    )


def _coordinate(raw: str, bound: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and -bound <= value <= bound else None


def location_payload(location: Mapping[str, Any]) -> str:
    """The intent message the conversation code handles with the nearest-agency flow."""
    return "/share_location" + json.dumps({"lat": location["lat"], "lon": location["lon"]}, separators=(",", ":"))


# ---------------------------------------------------------------------------------------- sending


class _ApiBaseHttpClient(AsyncTwilioHttpClient):
    """Twilio's async HTTP client, sending to another base URL (a recorder in tests) when asked."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        self.base_url = base_url.rstrip("/")

    async def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                      auth: Any = None, timeout: float | None = None, allow_redirects: bool = False) -> TwilioResponse:
        if self.base_url != TWILIO_API:
            url = _TWILIO_HOST.sub(self.base_url, url)
        return await super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                                     timeout=timeout if timeout is not None else self.timeout,
                                     allow_redirects=allow_redirects)


class TwilioSender:
    """Sends WhatsApp messages through Twilio's REST API without blocking the event loop."""

    def __init__(self, settings: Settings, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.settings = settings
        self._sleep = sleep
        self._client: Client | None = None
        self._http: _ApiBaseHttpClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _rest(self) -> Client:
        # aiohttp sessions belong to one event loop: make one per loop, on first use.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._http = _ApiBaseHttpClient(self.settings.api_base_url, self.settings.timeout_seconds)
            self._client = Client(self.settings.account_sid, self.settings.auth_token, http_client=self._http)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._http is not None and self._loop is asyncio.get_running_loop():
            await self._http.close()
        self._client = self._http = self._loop = None

    async def send(self, to: str, *, body: str | None = None, media_url: list[str] | None = None,
                   content_sid: str | None = None, content_variables: Mapping[str, Any] | None = None) -> str | None:
        """The message's SID once Twilio accepted it; None in development or after giving up."""
        params: dict[str, Any] = {"to": whatsapp_address(to)}
        if self.settings.messaging_service_sid:
            params["messaging_service_sid"] = self.settings.messaging_service_sid
        if self.settings.whatsapp_from:
            params["from_"] = self.settings.whatsapp_from
        if body:
            params["body"] = body
        if media_url:
            params["media_url"] = media_url
        if content_sid:
            params["content_sid"] = content_sid
            if content_variables:
                params["content_variables"] = json.dumps(content_variables, ensure_ascii=False)

        if not self.settings.can_send:
            logger.info("WhatsApp development mode (no Twilio credentials), not sent to %s: %s",
                        mask_phone(to), body or media_url or content_sid)
            return None

        attempts = self.settings.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                message = await self._rest().messages.create_async(**params)
                return str(message.sid)
            except TwilioRestException as exc:
                retryable = exc.status >= 500 or exc.status in _RETRYABLE_STATUS
                problem = f"Twilio refused ({exc.status}, code {exc.code}): {exc.msg}"
            except Exception as exc:  # aiohttp's network errors, timeouts, resets
                retryable = True
                problem = f"{type(exc).__name__}: {exc}"
            if not retryable or attempt == attempts:
                logger.error("WhatsApp message to %s not sent after %d attempt(s): %s",
                             mask_phone(to), attempt, problem)
                return None
            delay = self.settings.retry_backoff_seconds * 2 ** (attempt - 1)
            logger.warning("WhatsApp message to %s failed (attempt %d/%d, retrying in %.1fs): %s",
                           mask_phone(to), attempt, attempts, delay, problem)
            await self._sleep(delay)
        return None


class WhatsAppOutput(OutputChannel):
    """Rasa's replies as WhatsApp messages."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, sender: TwilioSender, offers: OfferStore) -> None:
        self.sender = sender
        self.offers = offers

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(text):
            await self.sender.send(recipient_id, body=part)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        body, options = render_buttons(text, buttons)
        # Remembered before sending, so that a fast reply already finds the options.
        self.offers.remember(recipient_id, options)
        await self.send_text_message(recipient_id, body)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.sender.send(recipient_id, media_url=[image])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """`{"whatsapp": {"content_sid": "HX…", "content_variables": {...}}}` sends an approved
        template; other custom payloads are meant for other channels."""
        content = json_message.get(CHANNEL, json_message)
        if isinstance(content, dict) and content.get("content_sid"):
            await self.sender.send(recipient_id, content_sid=str(content["content_sid"]),
                                   content_variables=content.get("content_variables"))
        else:
            logger.debug("custom payload without a WhatsApp part, not sent: %s", list(json_message))


# ---------------------------------------------------------------------------------------- channel


class _SenderLocks:
    """One lock per person, dropped when nobody holds or waits for it (bounded by activity)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class _Seen:
    """Message SIDs already taken, so that a webhook Twilio sends twice is handled once."""

    size: int = 5000
    sids: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def first_time(self, sid: str) -> bool:
        if not sid:
            return True
        if sid in self.sids:
            return False
        self.sids[sid] = None
        while len(self.sids) > self.size:
            self.sids.popitem(last=False)
        return True


class WhatsAppInput(InputChannel):
    """Twilio's WhatsApp webhook, signed, at /webhooks/whatsapp/webhook."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        return cls(Settings.load(credentials))

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self.offers = OfferStore()
        self.sender = TwilioSender(self.settings)
        self._locks = _SenderLocks()
        self._seen = _Seen()
        self._tasks: set[asyncio.Task[None]] = set()
        if not self.settings.auth_token:
            logger.warning("WhatsApp channel: TWILIO_AUTH_TOKEN is not set, every webhook call will be refused (403)")
        if not self.settings.can_send:
            logger.info("WhatsApp channel in development mode: replies are logged, not sent")

    def get_output_channel(self) -> WhatsAppOutput:
        return WhatsAppOutput(self.sender, self.offers)

    # -- signature

    def public_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public one (behind a proxy), else the request's."""
        configured = self.settings.webhook_url
        if not configured:
            return str(request.url)
        query = request.query_string
        return f"{configured}?{query}" if query and "?" not in configured else configured

    def is_signed(self, request: Request, form: RequestParameters) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.settings.auth_token:
            return False
        validator = RequestValidator(self.settings.auth_token)
        return bool(validator.validate(self.public_url(request), form, signature))

    # -- webhook

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp = Blueprint("whatsapp_webhook", __name__)

        @whatsapp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "sending": "twilio" if self.settings.can_send else "development"})

        @whatsapp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            form = webhook_form(request)
            if not self.is_signed(request, form):
                logger.warning("WhatsApp webhook: %s signature from %s, refused",
                               "invalid" if request.headers.get("X-Twilio-Signature") else "missing", request.ip)
                return response.text("invalid signature", status=403)
            inbound = parse_inbound(form)
            if inbound is None:
                logger.debug("WhatsApp webhook: not a user message, ignored")
            elif self._seen.first_time(inbound.message_sid):
                agent = getattr(request.app.ctx, "agent", None)
                self._spawn(self.handle(inbound, on_new_message, agent))
            # Twilio waits at most 15 s: answer now, reply through the REST API when ready.
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @whatsapp.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await self.idle(timeout=10)
            await self.sender.aclose()

        return whatsapp

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until every received message has been handled (tests, shutdown)."""
        while self._tasks:
            done, _ = await asyncio.wait(set(self._tasks), timeout=timeout)
            if not done:
                return

    async def handle(self, inbound: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                     agent: Any = None) -> None:
        """One person's message, after the previous one of the same person (tasks start in
        arrival order and the per-person lock is first come, first served)."""
        async with self._locks.hold(inbound.sender):
            try:
                await self._handle(inbound, on_new_message, agent)
            except Exception:
                logger.exception("WhatsApp message %s from %s could not be handled",
                                 inbound.message_sid, mask_phone(inbound.sender))

    async def _handle(self, inbound: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      agent: Any) -> None:
        output = self.get_output_channel()
        tracker = None
        if inbound.media_types:
            tracker = await _tracker(agent, inbound.sender)
            await output.send_text_message(inbound.sender, MEDIA_TEXTS[_language(inbound, tracker)])

        metadata: dict[str, Any] = {
            "channel": CHANNEL,
            "phone": inbound.sender,
            "profile_name": inbound.profile_name or None,
            "wa_id": inbound.wa_id or None,
            "message_sid": inbound.message_sid or None,
            "business_number": inbound.to or None,
            "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if inbound.media_types:
            metadata["media"] = list(inbound.media_types)

        if inbound.location:
            text = location_payload(inbound.location)
            metadata["location"] = inbound.location
        elif inbound.button_payload:
            text = inbound.button_payload
            metadata["choice"] = {"title": inbound.button_text or None, "source": "button"}
        else:
            text = inbound.body
            if text:
                # The tracker is the truth (it survives restarts and is shared by every Rasa
                # instance); this process's memory serves only when the tracker cannot be read.
                tracker = tracker or await _tracker(agent, inbound.sender)
                if tracker is not None:
                    options = options_from_events(tracker.events)
                else:
                    options = self.offers.get(inbound.sender) or []
                picked = match_choice(text, options)
                if picked:
                    number, option = picked
                    text = option.payload
                    metadata["choice"] = {"number": number, "title": option.title, "typed": inbound.body,
                                          "source": "numbered_list"}
        if not text:
            return

        self.offers.start_turn(inbound.sender)
        await on_new_message(UserMessage(
            text, output, inbound.sender, input_channel=CHANNEL,
            message_id=inbound.message_sid or None,
            metadata={k: v for k, v in metadata.items() if v is not None},
        ))


async def _tracker(agent: Any, sender: str) -> Any:
    """The person's tracker from Rasa's tracker store, or None (no agent, unknown, store down)."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        return await store.retrieve(sender)
    except Exception:
        logger.warning("WhatsApp channel: tracker of %s unavailable", mask_phone(sender), exc_info=True)
        return None


def _language(inbound: Inbound, tracker: Any) -> str:
    """The conversation's language once the person has written; before that, a guess from the
    caption or the profile name; French by default."""
    if tracker is not None and any(getattr(e, "type_name", "") == "user" for e in tracker.events):
        slot = tracker.get_slot("language")
        if slot in LANGUAGES:
            return str(slot)
    for text in (inbound.body, inbound.profile_name):
        language = detect_language(text) if text else None
        if language in LANGUAGES:
            return str(language)
    return "fr"


__all__ = ["CHANNEL", "MEDIA_TEXTS", "Inbound", "Option", "Settings", "TwilioSender", "WhatsAppInput",
           "WhatsAppOutput", "location_payload", "parse_inbound"]
