"""People who talk to the assistant: Moroccan phone numbers, the citizen record, and erasure."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

from fastapi import HTTPException, status
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from app.models import Appointment, Citizen, Handoff, IdempotencyRecord, OutboxMessage
from app.models.appointment import SeatHold
from app.schemas.citizens import ErasureOut
from app.services.availability import as_utc, stored_utc

# Eastern Arabic and Persian digits, as typed on Arabic keyboards.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"[\s.\-()/\u200e\u200f]")


def normalize_phone(raw: str) -> str:
    """A Moroccan mobile number in E.164 (+2126XXXXXXXX, +2127XXXXXXXX), or ValueError(reason)."""
    text = raw.strip().translate(_DIGITS)
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:"):]
    international = text.startswith("+")
    digits = _SEPARATORS.sub("", text[1:] if international else text)
    if not re.fullmatch(r"[0-9]+", digits):
        raise ValueError("a phone number has only digits, spaces, dots or dashes, and an optional leading +")
    if international or digits.startswith("00"):
        digits = digits.removeprefix("00")
        if not digits.startswith("212"):
            raise ValueError("only Moroccan numbers (+212) are accepted")
        national = digits[3:]
        # "+212 (0)6..." keeps the trunk zero by habit.
        national = national[1:] if len(national) == 10 and national.startswith("0") else national
    elif digits.startswith("212") and len(digits) == 12:
        national = digits[3:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise ValueError("write the number as 06XXXXXXXX, 07XXXXXXXX or +212XXXXXXXXX")
    if len(national) != 9:
        raise ValueError("a Moroccan number has 10 digits: 06 or 07 followed by 8 digits")
    if national[0] not in "67":
        raise ValueError("a Moroccan mobile number (06 or 07) is needed, to reach you by WhatsApp or SMS")
    return f"+212{national}"


def phone_or_422(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"phone: {error}") from error


def find_citizen(session: Session, phone: str) -> Citizen | None:
    return session.scalar(select(Citizen).where(Citizen.phone == phone))


def upsert_citizen(session: Session, *, phone: str, full_name: str | None, language: str, channel: str,
                   whatsapp_opt_in: bool, now: datetime) -> Citizen:
    """The person's record, created or refreshed with what they just told us (not committed)."""
    citizen = find_citizen(session, phone) or Citizen(phone=phone, created_at=now)
    if full_name:
        citizen.full_name = full_name
    citizen.language = language
    citizen.channel = channel
    # Opt-in is recorded once, with its time; withdrawing it is a separate, explicit step.
    if whatsapp_opt_in and citizen.whatsapp_opt_in_at is None:
        citizen.whatsapp_opt_in_at = now
    session.add(citizen)
    session.flush()
    return citizen


def erase(*, session: Session, raw_phone: str, now: datetime) -> ErasureOut:
    """Erase a person: future appointments cancelled first, then name, phone and notes removed
    everywhere; what remains (agency, service, time, status) is anonymous and feeds statistics."""
    phone = phone_or_422(raw_phone)
    now = as_utc(now)
    citizen = find_citizen(session, phone)
    handoff_of_person = Handoff.phone == phone
    if citizen is not None:
        handoff_of_person = or_(handoff_of_person, Handoff.citizen_id == citizen.id)
    handoffs = session.scalars(select(Handoff).where(handoff_of_person)).all()
    messages = session.scalars(select(OutboxMessage.id).where(OutboxMessage.to_phone == phone)).all()
    if citizen is None and not handoffs and not messages:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no data is held for this phone number")

    appointments: list[Appointment] = []
    if citizen is not None:
        appointments = list(session.scalars(select(Appointment).where(Appointment.citizen_id == citizen.id)))
    cancelled = [a.id for a in appointments if a.status == "booked" and stored_utc(a.starts_at) > now]
    for appointment in appointments:
        if appointment.id in cancelled:
            appointment.status = "cancelled"
            appointment.cancelled_at = now
        appointment.notes = None
        appointment.citizen_id = None
    ids = [a.id for a in appointments]
    session.flush()
    if cancelled:
        session.execute(delete(SeatHold).where(SeatHold.appointment_id.in_(cancelled)))
    if ids:
        references = [a.reference for a in appointments]
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.reference.in_(references)))
    messages_of_person = OutboxMessage.to_phone == phone
    if ids:
        messages_of_person = or_(messages_of_person, OutboxMessage.appointment_id.in_(ids))
    erased_messages = cast(CursorResult[Any], session.execute(delete(OutboxMessage).where(messages_of_person))).rowcount
    session.execute(update(Handoff).where(Handoff.id.in_([h.id for h in handoffs]))
                    .values(phone=None, full_name=None, summary="", place=None, citizen_id=None))
    if citizen is not None:
        session.delete(citizen)
    session.commit()
    return ErasureOut(citizen=citizen is not None, appointments_cancelled=len(cancelled),
                      appointments_anonymised=len(appointments), handoffs_anonymised=len(handoffs),
                      notifications_erased=erased_messages or 0)
