"""Appointments with an adviser, the seats they hold, and the replay records of idempotent
booking requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.models._types import utcnow

# booked → attended | no_show (staff), booked → cancelled | rescheduled (a new row takes over).
ACTIVE_STATUSES = ("booked", "attended", "no_show")
_ACTIVE_SQL = "status IN ('booked', 'attended', 'no_show')"


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        # The guarantee against double booking: one row per (agency, start, seat) among active
        # appointments, seats numbered 1..advisers. Enforced by the database, so it holds across
        # processes and replicas; cancelled appointments free their seat. Appointments longer
        # than one slot also hold the later slots through SeatHold (below).
        Index(
            "uq_appointment_active_seat",
            "agency_id",
            "starts_at",
            "seat",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
        # One person cannot be in two places at once, even when two requests race.
        Index(
            "uq_appointment_active_citizen_start",
            "citizen_id",
            "starts_at",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seat: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="booked", index=True)
    language: Mapped[str] = mapped_column(String(10), default="fr")
    channel: Mapped[str] = mapped_column(String(20), default="web")
    segment: Mapped[str | None] = mapped_column(String(40))
    program_id: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(String(1000))
    rescheduled_from: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class SeatHold(Base):
    """One adviser seat in one slot, held by one active appointment.

    A 60-minute appointment on a 30-minute grid holds its seat in two consecutive slots; the
    primary key makes the database refuse any overlap on a seat, whatever the start times. The
    rows of an appointment are deleted when it is cancelled or moved."""

    __tablename__ = "seat_hold"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    slot_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    seat: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)


class IdempotencyRecord(Base):
    """The first answer to a request with an `Idempotency-Key`, replayed for its retries."""

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The appointment the answer describes: the record holds personal data and is erased with it.
    reference: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
