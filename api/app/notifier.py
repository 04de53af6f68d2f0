"""The worker that sends the WhatsApp outbox: a thread in the backend's lifespan (NOTIFIER_ENABLED)
or a process of its own (`python -m app.cli notifier`). Any number may run at once, in several
backend workers or machines: rows are claimed in the database, which is the only state, so a
restart loses nothing (rows a stopped worker had claimed are taken over after the lease)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.models._types import utcnow
from app.services.notifications import DeliveryReport, deliver_due
from app.services.twilio_sender import Sender, sender_from_settings

log = logging.getLogger("app.notifier")
THREAD_NAME = "whatsapp-notifier"


def _make_logs_visible() -> None:
    """Under uvicorn nothing shows the app's INFO logs (development mode's "not sent" lines among
    them): give the app's loggers a handler, unless the process configured logging itself."""
    app_logger = logging.getLogger("app")
    if app_logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    app_logger.addHandler(handler)
    app_logger.setLevel(logging.INFO)


class Notifier:
    def __init__(self, *, sessions: sessionmaker[Session], settings: Settings, sender: Sender | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """`sender` defaults to Twilio when credentials and templates are configured, else none
        (development mode: rows are recorded, not sent)."""
        self.sessions = sessions
        self.settings = settings
        self.sender = sender if sender is not None else sender_from_settings(settings)
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def development(self) -> bool:
        return self.sender is None

    def run_once(self) -> DeliveryReport:
        return deliver_due(sessions=self.sessions, sender=self.sender, settings=self.settings, clock=self.clock)

    def run(self) -> None:
        """Loop until stopped: a full batch is followed at once by the next, otherwise wait."""
        mode = "development mode: messages are recorded, not sent" if self.development else "sending through Twilio"
        log.info("WhatsApp notifier started (%s)", mode)
        if self.development and self.settings.environment == "production":
            log.warning("WhatsApp messages are NOT sent: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
                        "TWILIO_WHATSAPP_FROM and TWILIO_CONTENT_SIDS")
        while not self._stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # the database may be away for a while; the outbox waits for us
                log.exception("WhatsApp notifier: delivery round failed; trying again later")
                report = DeliveryReport()
            if report.claimed:
                log.info("WhatsApp notifier: %s", report.summary())
            if report.claimed < self.settings.notifier_batch_size:
                self._stop.wait(self.settings.notifier_poll_seconds)
        log.info("WhatsApp notifier stopped")

    def start(self) -> None:
        _make_logs_visible()
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for the message being sent, at most one send's timeout."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.twilio_timeout_seconds + 5)
            self._thread = None

    def run_until_signalled(self) -> None:
        """Run in the foreground until SIGTERM or SIGINT (the process of its own)."""
        def _request_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("WhatsApp notifier: %s received, stopping", signal.Signals(signum).name)
            self._stop.set()

        signal.signal(signal.SIGTERM, _request_stop)
        signal.signal(signal.SIGINT, _request_stop)
        self.run()
