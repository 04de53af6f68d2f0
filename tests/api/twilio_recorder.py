"""A local stand-in for Twilio's Messages REST API: records every request it receives and answers
like Twilio (201 with a message resource, or Twilio's error body), so tests never reach the
Internet. Point TWILIO_API_BASE_URL at `recorder.url`."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-zA-Z]+)/Messages\.json$")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    account_sid: str | None
    username: str | None
    password: str | None
    form: dict[str, str]
    answered: int

    @property
    def to(self) -> str | None:
        return self.form.get("To")

    @property
    def from_(self) -> str | None:
        return self.form.get("From")

    @property
    def content_sid(self) -> str | None:
        return self.form.get("ContentSid")

    @property
    def content_variables(self) -> dict[str, Any]:
        return json.loads(self.form.get("ContentVariables") or "{}")


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    remaining: int | None  # None: every request


@dataclass
class TwilioRecorder:
    delay_seconds: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    _failure: _Failure | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the recorder first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(self, *, status: int = 500, code: int = 20500, message: str = "Internal Server Error",
             times: int | None = None) -> None:
        """Answer the next `times` requests (all, when None) with a Twilio error."""
        with self._lock:
            self._failure = _Failure(status, code, message, times)

    def succeed(self) -> None:
        with self._lock:
            self._failure = None

    def sent(self) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.answered == 201]

    def _next_answer(self) -> _Failure | None:
        with self._lock:
            failure = self._failure
            if failure is None:
                return None
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failure = None
            return failure

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> TwilioRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[-1] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                username = password = None
                authorization = self.headers.get("Authorization") or ""
                if authorization.startswith("Basic "):
                    username, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
                match = MESSAGES_PATH.match(self.path)
                account = match["account"] if match else None
                if recorder.delay_seconds:
                    time.sleep(recorder.delay_seconds)
                if match is None:
                    status, body = 404, {"code": 20404, "message": f"not found: {self.path}", "status": 404}
                elif username != account or not password:
                    status, body = 401, {"code": 20003, "message": "Authenticate", "status": 401}
                elif (failure := recorder._next_answer()) is not None:
                    status = failure.status
                    body = {"code": failure.code, "message": failure.message, "status": failure.status,
                            "more_info": f"https://www.twilio.com/docs/errors/{failure.code}"}
                else:
                    status = 201
                    body = {"sid": "SM" + secrets.token_hex(16), "account_sid": account, "to": form.get("To"),
                            "from": form.get("From"), "status": "queued", "body": "", "num_segments": "1",
                            "direction": "outbound-api", "date_created": formatdate(usegmt=True),
                            "api_version": "2010-04-01", "uri": f"{self.path[:-5]}/x.json"}
                recorder._record(RecordedRequest("POST", self.path, account, username, password, form, status))
                self._reply(status, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
