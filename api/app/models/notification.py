"""Outgoing WhatsApp messages: the outbox that the notifier sends from (or only records, in dev).

A row is the whole state of a message, so nothing is lost when a process stops:
pending → sending (claimed by one worker until `locked_until`) → sent | recorded | failed | skipped,
and back to pending, later, after a failure that may pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.models._types import utcnow

# Rows in these states will not be sent any more.
FINAL_STATUSES = ("sent", "recorded", "failed", "skipped")


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # confirmation | reminder | cancellation
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    to_phone: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(10))
    # The approved template; empty rows get the configured one for (kind, language) when sent.
    content_sid: Mapped[str | None] = mapped_column(String(64))
    # Template variables ({"1": name, "2": date, ...}), replaced by those actually sent; the
    # configured templates take them from the appointment when sending.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # pending | sending | sent | recorded | failed | skipped (last_error says why)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The claim of the worker sending it: another worker may take the row over after locked_until.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Twilio's message SID (SM...) once accepted, and when the row reached its final state.
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
