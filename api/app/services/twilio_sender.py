"""Sending one approved WhatsApp template through Twilio's REST API (the `twilio` package).

Only templates leave here: a ContentSid and its variables, never free-form text, so a message is
valid outside the 24-hour window. The API host can be replaced (TWILIO_API_BASE_URL) so that tests
talk to a local recorder and never to the Internet."""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import urlsplit

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from app.core.config import Settings

# Twilio refused the request itself (e.g. 21211 invalid "To", 21656 invalid ContentVariables):
# sending it again would fail the same way. Anything else (5xx, 429, 401 while credentials are
# being fixed, network errors) may pass later and is retried.
PERMANENT_HTTP_STATUSES = frozenset({400, 422})


class SendError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Sender(Protocol):
    def send(self, *, to_phone: str, content_sid: str, variables: dict[str, str]) -> str:
        """Send a template to an E.164 phone; the provider's message id, or SendError."""
        ...


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with every request sent to `base_url` instead of *.twilio.com."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        parts = urlsplit(url)
        rewritten = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, rewritten, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)


def whatsapp_address(phone: str) -> str:
    return phone if phone.startswith("whatsapp:") else f"whatsapp:{phone}"


class TwilioSender:
    def __init__(self, settings: Settings) -> None:
        http_client = (BaseUrlHttpClient(settings.twilio_api_base_url, timeout=settings.twilio_timeout_seconds)
                       if settings.twilio_api_base_url else TwilioHttpClient(timeout=settings.twilio_timeout_seconds))
        self._client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)
        self._from = whatsapp_address(settings.twilio_whatsapp_from) if settings.twilio_whatsapp_from else None
        self._service = settings.twilio_messaging_service_sid or None

    def send(self, *, to_phone: str, content_sid: str, variables: dict[str, str]) -> str:
        options: dict[str, Any] = {"to": whatsapp_address(to_phone), "content_sid": content_sid,
                                   "content_variables": json.dumps(variables, ensure_ascii=False)}
        if self._from:
            options["from_"] = self._from
        if self._service:
            options["messaging_service_sid"] = self._service
        try:
            message = self._client.messages.create(**options)
        except TwilioRestException as error:
            reason = f"twilio {error.status} (code {error.code}): {error.msg}"
            raise SendError(reason, permanent=error.status in PERMANENT_HTTP_STATUSES) from error
        except (TwilioException, RequestException) as error:
            raise SendError(f"{type(error).__name__}: {error}", permanent=False) from error
        return str(message.sid)


def sender_from_settings(settings: Settings) -> TwilioSender | None:
    """The Twilio sender, or None for development mode (credentials or templates missing)."""
    has_credentials = bool(settings.twilio_account_sid and settings.twilio_auth_token
                           and (settings.twilio_whatsapp_from or settings.twilio_messaging_service_sid))
    if not has_credentials or not settings.twilio_content_sids:
        return None
    return TwilioSender(settings)
