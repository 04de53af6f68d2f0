"""Booking, reading, cancelling and moving appointments. No double booking, whatever the
concurrency: each attempt is one transaction that takes a seat in the database (SeatHold's
primary key and the partial unique index on active appointments); when another request got the
seat first, the attempt is rolled back whole and the next free seat is tried."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from fastapi import HTTPException, status
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.security import Caller, can_see_agency, scope_to_agency
from app.models import Agency, Appointment, Citizen, IdempotencyRecord, Service
from app.models.appointment import ACTIVE_STATUSES, SeatHold
from app.schemas.appointments import AppointmentCreate, AppointmentOut
from app.services import notifications
from app.services.availability import (
    Candidate,
    as_utc,
    bookable_agency,
    check_slot,
    free_seats,
    held_seats,
    local_zone,
    stored_utc,
)
from app.services.citizens import find_citizen, upsert_citizen

# Easy to read aloud and to type on a phone: no 0/O, no 1/I.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    """Six characters with at least one letter and one digit: a reference then never reads as a
    word, so the assistant can tell one in a message ("ma référence est K7M2QX")."""
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if any(c.isdigit() for c in reference) and any(c.isalpha() for c in reference):
            return reference


def clean_reference(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").upper()


@dataclass(frozen=True)
class BookingResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail)


def to_out(session: Session, appointment: Appointment, lang: str | None = None) -> AppointmentOut:
    """The appointment as the API shows it, its agency and service named in `lang` (default: the
    booking's language: a person who booked in Darija and asks in French reads French names)."""
    names = lang or appointment.language
    agency = session.get(Agency, appointment.agency_id)
    service = session.get(Service, appointment.service_id)
    citizen = session.get(Citizen, appointment.citizen_id) if appointment.citizen_id else None
    assert agency is not None and service is not None  # foreign keys
    zone = local_zone()
    starts_at = stored_utc(appointment.starts_at).astimezone(zone)
    return AppointmentOut(
        reference=appointment.reference, status=appointment.status,  # type: ignore[arg-type]
        agency_id=agency.id, agency_name=agency.name_in(names), agency_city=agency.city,
        service=service.id, service_name=service.names.get(names) or service.names["fr"],
        starts_at=starts_at, ends_at=stored_utc(appointment.ends_at).astimezone(zone), date=starts_at.date(),
        time=starts_at.strftime("%H:%M"), timezone=zone.key, language=appointment.language,
        channel=appointment.channel, full_name=citizen.full_name if citizen else None,
        phone=citizen.phone if citizen else None, program=appointment.program_id, segment=appointment.segment,
        notes=appointment.notes,
    )


def _request_hash(payload: AppointmentCreate) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# How long an Idempotency-Key replays its first answer. Retries come within seconds or minutes;
# the record holds the booking's personal data, so it is not kept for ever.
REPLAY_RETENTION = timedelta(hours=24)
# Old records deleted per booking: enough to keep up, little work for any one request.
FORGET_BATCH = 200


def _forget_old_replays(session: Session, now: datetime) -> None:
    """Delete replay records past REPLAY_RETENTION, a batch at a time, in a transaction of its
    own; rows another booking is already deleting are skipped (PostgreSQL), not waited for."""
    old = (select(IdempotencyRecord.key).where(IdempotencyRecord.created_at < now - REPLAY_RETENTION)
           .limit(FORGET_BATCH).with_for_update(skip_locked=True))
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key.in_(old)))
    session.commit()


def _replay(session: Session, key: str, request_hash: str, now: datetime) -> BookingResult | None:
    record = session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if stored_utc(record.created_at) < now - REPLAY_RETENTION:
        # Past its retention (not yet deleted): the key is free again, for a new booking.
        session.delete(record)
        session.commit()
        return None
    if record.request_hash != request_hash:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "this Idempotency-Key was already used with a different request")
    return BookingResult(record.status_code, record.response, replayed=True)


def _overlapping(session: Session, *, citizen_id: int, candidate: Candidate,
                 ignore: int | None = None) -> Appointment | None:
    """The person's active appointment that overlaps the candidate, if any."""
    stmt = select(Appointment).where(
        Appointment.citizen_id == citizen_id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < candidate.ends_at, Appointment.ends_at > candidate.starts_at,
    )
    if ignore is not None:
        stmt = stmt.where(Appointment.id != ignore)
    return session.scalars(stmt.limit(1)).first()


def _busy(existing: Appointment) -> HTTPException:
    when = stored_utc(existing.starts_at).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    return _conflict(f"this person already has an appointment at that time ({existing.reference}, {when})")


def _hold(session: Session, appointment: Appointment, candidate: Candidate) -> None:
    session.add_all(SeatHold(agency_id=appointment.agency_id, slot_at=cell, seat=appointment.seat,
                             appointment_id=appointment.id) for cell in candidate.cells)
    session.flush()


def _attempts(agency: Agency) -> range:
    # Each failed attempt means another transaction committed a seat (or a reference collided),
    # so a few more attempts than seats always reach a definite answer.
    return range(agency.advisers + 3)


def _try_booking(session: Session, *, payload: AppointmentCreate, agency: Agency, service: Service,
                 candidate: Candidate, idempotency_key: str, request_hash: str, now: datetime) -> BookingResult:
    """One all-or-nothing attempt: citizen, appointment, seat holds and replay record, one commit."""
    known = find_citizen(session, payload.phone)
    existing = _overlapping(session, citizen_id=known.id, candidate=candidate) if known else None
    if existing is not None:
        raise _busy(existing)
    held = held_seats(session, agency_id=agency.id, first=candidate.cells[0], last=candidate.cells[-1])
    seats = free_seats(candidate, advisers=agency.advisers, held=held)
    if not seats:
        raise _conflict("this slot is full: choose another time")
    citizen = upsert_citizen(session, phone=payload.phone, full_name=payload.full_name, language=payload.language,
                             channel=payload.channel, whatsapp_opt_in=payload.whatsapp_opt_in, now=now)
    appointment = Appointment(
        reference=new_reference(), citizen_id=citizen.id, agency_id=agency.id, service_id=service.id,
        starts_at=candidate.starts_at, ends_at=candidate.ends_at, seat=seats[0], status="booked",
        language=payload.language, channel=payload.channel, segment=payload.segment, program_id=payload.program,
        notes=payload.notes, created_at=now, updated_at=now,
    )
    session.add(appointment)
    session.flush()
    _hold(session, appointment, candidate)
    notifications.queue_booking_messages(session, appointment=appointment, now=now)
    body = to_out(session, appointment).model_dump(mode="json")
    session.add(IdempotencyRecord(key=idempotency_key, request_hash=request_hash, status_code=201, response=body,
                                  reference=appointment.reference, created_at=now))
    session.commit()
    return BookingResult(201, body, replayed=False)


def book(*, session: Session, payload: AppointmentCreate, idempotency_key: str, now: datetime) -> BookingResult:
    now = as_utc(now)
    request_hash = _request_hash(payload)
    _forget_old_replays(session, now)
    replay = _replay(session, idempotency_key, request_hash, now)
    if replay is not None:
        return replay
    agency = bookable_agency(session, payload.agency_id)
    if agency is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown agency: {payload.agency_id}")
    service = session.get(Service, payload.service)
    if service is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown service: {payload.service}")
    candidate = check_slot(agency, service, starts_at=payload.starts_at, now=now)

    for _ in _attempts(agency):
        try:
            return _try_booking(session, payload=payload, agency=agency, service=service, candidate=candidate,
                                idempotency_key=idempotency_key, request_hash=request_hash, now=now)
        except IntegrityError:
            session.rollback()
        except HTTPException:
            session.rollback()
            # A concurrent retry of this very request may be what filled the slot or the person's time.
            replay = _replay(session, idempotency_key, request_hash, now)
            if replay is not None:
                return replay
            raise
        replay = _replay(session, idempotency_key, request_hash, now)
        if replay is not None:
            return replay
    raise _conflict("this slot is full: choose another time")


def _find(session: Session, *, reference: str, caller: Caller, phone: str | None = None) -> Appointment:
    appointment = session.scalar(select(Appointment).where(Appointment.reference == clean_reference(reference)))
    # Another agency's appointment, or the wrong phone, looks exactly like an unknown reference.
    if appointment is None or not can_see_agency(caller.staff, appointment.agency_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no appointment with reference {reference}")
    if phone is not None:
        owner = session.get(Citizen, appointment.citizen_id) if appointment.citizen_id else None
        if owner is None or owner.phone != phone:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no appointment with reference {reference}")
    return appointment


def get_appointment(*, session: Session, reference: str, caller: Caller, lang: str | None = None) -> AppointmentOut:
    return to_out(session, _find(session, reference=reference, caller=caller), lang)


def list_for_phone(*, session: Session, phone: str, caller: Caller, upcoming: bool,
                   now: datetime, lang: str | None = None) -> list[AppointmentOut]:
    now = as_utc(now)
    citizen = find_citizen(session, phone)
    if citizen is None:
        return []
    stmt = select(Appointment).where(Appointment.citizen_id == citizen.id)
    if upcoming:
        stmt = stmt.where(Appointment.status == "booked", Appointment.starts_at > now)
    else:
        stmt = stmt.where(Appointment.status != "rescheduled")
    stmt = scope_to_agency(stmt, staff=caller.staff, column=Appointment.agency_id)
    return [to_out(session, row, lang) for row in session.scalars(stmt.order_by(Appointment.starts_at))]


def _ensure_changeable(appointment: Appointment, *, now: datetime, verb: str) -> None:
    if appointment.status == "cancelled":
        raise _conflict(f"appointment {appointment.reference} is already cancelled")
    if appointment.status != "booked":
        raise _conflict(f"appointment {appointment.reference} cannot be {verb}: its status is {appointment.status}")
    if stored_utc(appointment.starts_at) <= now:
        raise _conflict(f"appointment {appointment.reference} has already started or passed")


def _claim(session: Session, appointment: Appointment, *, new_status: str, now: datetime, **values: Any) -> None:
    """Move a booked appointment to `new_status` only if nobody changed it meanwhile."""
    result = session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status=new_status, updated_at=now, **values).execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        session.rollback()
        raise _conflict(f"appointment {appointment.reference} was changed meanwhile: read it again")


def cancel(*, session: Session, reference: str, caller: Caller, phone: str | None, now: datetime,
           lang: str | None = None) -> AppointmentOut:
    now = as_utc(now)
    appointment = _find(session, reference=reference, caller=caller, phone=phone)
    _ensure_changeable(appointment, now=now, verb="cancelled")
    _claim(session, appointment, new_status="cancelled", now=now, cancelled_at=now)
    session.execute(delete(SeatHold).where(SeatHold.appointment_id == appointment.id))
    notifications.queue_cancellation(session, appointment=appointment, now=now)
    session.commit()
    session.refresh(appointment)
    return to_out(session, appointment, lang)


def reschedule(*, session: Session, reference: str, starts_at: datetime, caller: Caller, phone: str | None,
               now: datetime, lang: str | None = None) -> AppointmentOut:
    """Move an appointment atomically: the new one keeps the reference; the old row stays, as
    history, under a derived reference. If the new slot is taken, nothing changes (409)."""
    now = as_utc(now)
    old = _find(session, reference=reference, caller=caller, phone=phone)
    _ensure_changeable(old, now=now, verb="moved")
    agency = session.get(Agency, old.agency_id)
    service = session.get(Service, old.service_id)
    assert agency is not None and service is not None
    candidate = check_slot(agency, service, starts_at=starts_at, now=now)
    if candidate.starts_at == stored_utc(old.starts_at):
        raise _conflict(f"appointment {old.reference} is already at that time")
    snapshot = {name: getattr(old, name) for name in (
        "id", "reference", "citizen_id", "agency_id", "service_id", "language", "channel", "segment",
        "program_id", "notes")}

    for _ in _attempts(agency):
        if snapshot["citizen_id"] is not None:
            existing = _overlapping(session, citizen_id=snapshot["citizen_id"], candidate=candidate,
                                    ignore=snapshot["id"])
            if existing is not None:
                raise _busy(existing)
        held = held_seats(session, agency_id=agency.id, first=candidate.cells[0], last=candidate.cells[-1])
        seats = free_seats(candidate, advisers=agency.advisers, held=held, ignore=snapshot["id"])
        if not seats:
            break
        try:
            _claim(session, old, new_status="rescheduled", now=now,
                   reference=f"{snapshot['reference']}.{snapshot['id']}")
            session.execute(delete(SeatHold).where(SeatHold.appointment_id == snapshot["id"]))
            moved = Appointment(
                reference=snapshot["reference"], citizen_id=snapshot["citizen_id"], agency_id=snapshot["agency_id"],
                service_id=snapshot["service_id"], starts_at=candidate.starts_at, ends_at=candidate.ends_at,
                seat=seats[0], status="booked", language=snapshot["language"], channel=snapshot["channel"],
                segment=snapshot["segment"], program_id=snapshot["program_id"], notes=snapshot["notes"],
                rescheduled_from=snapshot["id"], created_at=now, updated_at=now,
            )
            session.add(moved)
            session.flush()
            _hold(session, moved, candidate)
            notifications.queue_reschedule_messages(session, old_appointment_id=snapshot["id"], appointment=moved,
                                                    now=now)
            session.commit()
            return to_out(session, moved, lang)
        except IntegrityError:
            session.rollback()
    raise _conflict("the new slot is full: the appointment was not moved")


ATTENDANCE = ("attended", "no_show")


def mark_attendance(*, session: Session, reference: str, caller: Caller, status_: str,
                    now: datetime) -> AppointmentOut:
    """Staff record whether the person came (attended / no_show), from the appointment's day on.
    A wrong mark can be corrected (attended ↔ no_show); the seat stays held either way."""
    if status_ not in ATTENDANCE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"status must be one of {', '.join(ATTENDANCE)}")
    now = as_utc(now)
    appointment = _find(session, reference=reference, caller=caller)
    if appointment.status not in ("booked", *ATTENDANCE):
        raise _conflict(f"appointment {appointment.reference} is {appointment.status}: attendance cannot be recorded")
    zone = local_zone()
    if stored_utc(appointment.starts_at).astimezone(zone).date() > now.astimezone(zone).date():
        raise _conflict(f"appointment {appointment.reference} is on a later day: attendance is recorded on the day")
    if appointment.status == status_:
        return to_out(session, appointment)
    result = session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == appointment.status)
        .values(status=status_, updated_at=now).execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        session.rollback()
        raise _conflict(f"appointment {appointment.reference} was changed meanwhile: read it again")
    session.commit()
    session.refresh(appointment)
    return to_out(session, appointment)
