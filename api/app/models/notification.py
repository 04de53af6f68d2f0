"""Outgoing WhatsApp messages: the outbox that the notifier sends from (or only records, in dev)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.models._types import utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # confirmation | reminder | cancellation
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    to_phone: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(10))
    content_sid: Mapped[str | None] = mapped_column(String(64))
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|sent|recorded|failed|skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
