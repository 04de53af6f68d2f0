"""All backend settings in one place (environment variables or `.env`; see `.env.example`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTIFICATION_KINDS = ("confirmation", "reminder", "cancellation")
NOTIFICATION_LANGUAGES = ("fr", "ar", "ary", "ary_latn")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=REPO_ROOT / ".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'ge.db'}"
    reference_dir: Path = REPO_ROOT / "data" / "reference"
    # The action server's bearer token. The default is for a laptop only; production refuses it.
    service_token: str = "dev-service-token"
    secret_key: str = "dev-secret-key-change-me"
    staff_session_minutes: int = 480
    timezone: str = "Africa/Casablanca"
    cors_origins: list[str] = ["http://localhost:8080", "http://127.0.0.1:8080"]
    # How far ahead people may book, and how many days the slot search covers by default.
    booking_horizon_days: int = 60
    # WhatsApp notifications (issue: channels). Without credentials, or without any ContentSid,
    # the notifier only records the outbox rows (development mode): nothing leaves the machine.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_from: str = ""
    # Optional: send through a Messaging Service (MG...) instead of, or as well as, the sender.
    twilio_messaging_service_sid: str = ""
    # Replaces https://api.twilio.com (tests point it at a local recorder); empty: Twilio itself.
    twilio_api_base_url: str = ""
    twilio_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    # Approved WhatsApp templates: {"confirmation": {"fr": "HX...", "ar": ...}, "reminder": {...},
    # "cancellation": {...}}. A language without its own template falls back to French's.
    twilio_content_sids: Annotated[dict[str, dict[str, str]], NoDecode] = {}
    # The reminder goes out the day before the appointment at this local hour (TIMEZONE).
    reminder_hour: Annotated[int, Field(ge=0, le=23)] = 10
    # The worker sending the outbox: in the backend's lifespan when enabled, or on its own with
    # `python -m app.cli notifier` (then set NOTIFIER_ENABLED=false for the backend).
    notifier_enabled: bool = True
    notifier_poll_seconds: Annotated[float, Field(gt=0)] = 15.0
    notifier_batch_size: Annotated[int, Field(ge=1, le=500)] = 20
    notifier_max_attempts: Annotated[int, Field(ge=1, le=50)] = 5
    # First retry after this many seconds, doubled at each failure, at most an hour.
    notifier_retry_seconds: Annotated[float, Field(gt=0)] = 60.0
    # A row claimed by a worker that died is claimed again after this long.
    notifier_lease_seconds: Annotated[float, Field(gt=0)] = 300.0

    @field_validator("twilio_content_sids", mode="before")
    @classmethod
    def _parse_content_sids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("twilio_content_sids")
    @classmethod
    def _known_templates(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        # A typo here would silently send French to everyone or nothing at all: refuse it at start.
        for kind, per_language in value.items():
            if kind not in NOTIFICATION_KINDS:
                raise ValueError(f"TWILIO_CONTENT_SIDS: unknown kind {kind!r} (one of {', '.join(NOTIFICATION_KINDS)})")
            for language, sid in per_language.items():
                if language not in NOTIFICATION_LANGUAGES:
                    raise ValueError(f"TWILIO_CONTENT_SIDS[{kind!r}]: unknown language {language!r}")
                if not (sid.startswith("HX") and len(sid) == 34):
                    raise ValueError(f"TWILIO_CONTENT_SIDS[{kind!r}][{language!r}]: a ContentSid is HX + 32 characters")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_batch(self) -> Settings:
        # A batch is sent one message after the other; a shorter lease would let another worker
        # claim rows that are still being sent.
        needed = self.notifier_batch_size * self.twilio_timeout_seconds
        if self.notifier_lease_seconds <= needed:
            raise ValueError("NOTIFIER_LEASE_SECONDS must exceed NOTIFIER_BATCH_SIZE x TWILIO_TIMEOUT_SECONDS "
                             f"({needed:g})")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.environment == "production" and settings.service_token == "dev-service-token":
        raise RuntimeError("SERVICE_TOKEN must be set in production")
    return settings
