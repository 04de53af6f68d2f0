"""A person who talks to the assistant; erased on request (`DELETE /citizens/{phone}`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.models._types import utcnow


class Citizen(Base):
    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True, index=True)  # E.164
    full_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(10), default="fr")
    channel: Mapped[str] = mapped_column(String(20), default="web")
    # WhatsApp opt-in to business-initiated messages (confirmations, reminders), with its time.
    whatsapp_opt_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
