"""A local stand-in for Twilio's REST API: records the WhatsApp messages the bot sends, so that
no test reaches Twilio. Point the channel at it with TWILIO_API_BASE_URL.

Only the one call the channel makes is served: POST /2010-04-01/Accounts/{sid}/Messages.json,
with HTTP basic auth (account SID, auth token) checked like Twilio does. Failures can be
injected to exercise the channel's retries. Standard library only, so both test environments
(bot: Python 3.10, api: 3.11+) can use it.

    python tests/e2e/twilio_recorder.py --port 18999   # prints what it receives, for manual runs
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-zA-Z]+)/Messages\.json$")


@dataclass
class SentMessage:
    """One message the bot asked Twilio to send."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str | None
    media_url: list[str]
    content_sid: str | None
    content_variables: str | None
    messaging_service_sid: str | None
    received_at: float

    @property
    def phone(self) -> str:
        return self.to.removeprefix("whatsapp:")


@dataclass
class TwilioRecorder:
    """The fake API on 127.0.0.1 (a free port by default), in a background thread."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "recorder-auth-token"
    port: int = 0
    messages: list[SentMessage] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the recorder first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TwilioRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                recorder._handle(self)

            def do_GET(self) -> None:
                recorder._reply(self, 404, {"code": 20404, "message": "not recorded", "status": 404})

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next `count` send requests get `status` (a Twilio error body) instead of 201."""
        with self._lock:
            self._failures.extend([status] * count)

    def sent_to(self, phone: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.phone == phone]

    def wait_for(self, phone: str, count: int, timeout: float = 30.0) -> list[SentMessage]:
        """The first `count` messages sent to `phone`, waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                sent = [m for m in self.messages if m.phone == phone]
                if len(sent) >= count:
                    return sent[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    bodies = [m.body for m in sent]
                    raise AssertionError(f"{len(sent)} message(s) to {phone} after {timeout}s, "
                                         f"wanted {count}: {bodies}")
                self._lock.wait(left)

    def wait_quiet(self, phone: str, quiet: float = 1.0, timeout: float = 30.0) -> list[SentMessage]:
        """Every message sent to `phone` once nothing new came for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            seen, since = -1, time.monotonic()
            while time.monotonic() < deadline:
                sent = [m for m in self.messages if m.phone == phone]
                if len(sent) != seen:
                    seen, since = len(sent), time.monotonic()
                elif sent and time.monotonic() - since >= quiet:
                    return sent
                self._lock.wait(0.05)
            return [m for m in self.messages if m.phone == phone]

    # -- the fake API

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        match = _MESSAGES_PATH.match(request.path.split("?", 1)[0])
        if not match:
            self._reply(request, 404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            return
        length = int(request.headers.get("Content-Length") or 0)
        form = parse_qs(request.rfile.read(length).decode("utf-8"), keep_blank_values=True)
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != expected or match["sid"] != self.account_sid:
            with self._lock:
                self.rejected.append({"reason": "authentication", "form": form})
            self._reply(request, 401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            with self._lock:
                self.rejected.append({"reason": f"injected {failure}", "form": form})
            self._reply(request, failure, {"code": 20500, "message": "Injected failure", "status": failure})
            return

        def one(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        if not one("To") or not (one("Body") or form.get("MediaUrl") or one("ContentSid")):
            self._reply(request, 400, {"code": 21602, "message": "Message body is required.", "status": 400})
            return
        message = SentMessage(
            sid="SM" + uuid.uuid4().hex, account_sid=self.account_sid, to=one("To") or "", from_=one("From"),
            body=one("Body"), media_url=form.get("MediaUrl", []), content_sid=one("ContentSid"),
            content_variables=one("ContentVariables"), messaging_service_sid=one("MessagingServiceSid"),
            received_at=time.time(),
        )
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()
        self._reply(request, 201, {
            "sid": message.sid, "account_sid": self.account_sid, "to": message.to, "from": message.from_,
            "body": message.body, "status": "queued", "num_segments": "1", "num_media": str(len(message.media_url)),
            "direction": "outbound-api", "api_version": "2010-04-01", "price": None, "error_code": None,
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json",
        })

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=18999)
    parser.add_argument("--account-sid", default=TwilioRecorder.account_sid)
    parser.add_argument("--auth-token", default=TwilioRecorder.auth_token)
    args = parser.parse_args()
    recorder = TwilioRecorder(account_sid=args.account_sid, auth_token=args.auth_token, port=args.port).start()
    print(f"Twilio recorder on {recorder.url} (account {recorder.account_sid}); Ctrl-C stops", flush=True)
    printed = 0
    try:
        while True:
            with recorder._lock:
                recorder._lock.wait(1.0)
                new = recorder.messages[printed:]
            for message in new:
                print(f"→ {message.to}: {message.body or message.media_url or message.content_sid}", flush=True)
            printed += len(new)
    except KeyboardInterrupt:
        recorder.stop()


if __name__ == "__main__":
    main()
