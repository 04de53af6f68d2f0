"""What the steering dashboard counts beside appointments, and how staff calendars subscribe.

- `Event`: one step of a conversation that leaves no other trace in the database (a conversation
  started, an eligibility check), reported by the action server. It holds no personal data: no
  phone, no name, no sender id, no free text; places are canonical gazetteer ids.
- `CalendarFeed`: the secret of a staff member's iCalendar subscription (the agenda's
  appointments as calendar events). A calendar app cannot log in, so the URL carries a token of
  its own, stored hashed, revocable, and never valid as a session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.models._types import utcnow


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_kind_occurred_at", "kind", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # conversation_started | eligibility_checked | ...
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(10))
    region_id: Mapped[str | None] = mapped_column(String(64))
    province_id: Mapped[str | None] = mapped_column(String(64))
    # Not foreign keys: an event outlives an agency's removal from the network.
    agency_id: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(40))
    program_id: Mapped[str | None] = mapped_column(String(64))


class CalendarFeed(Base):
    __tablename__ = "calendar_feed"

    # One feed per staff member: issuing a new URL replaces (revokes) the previous one.
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
