"""All backend settings in one place (environment variables or `.env`; see `.env.example`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]


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
    # WhatsApp notifications (issue: channels). Without credentials, messages go to the outbox.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_from: str = ""
    twilio_api_base_url: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    if settings.environment == "production" and settings.service_token == "dev-service-token":
        raise RuntimeError("SERVICE_TOKEN must be set in production")
    return settings
