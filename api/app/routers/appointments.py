"""Appointments with an adviser: book, read, cancel, move."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import JSONResponse

from app.core.security import CallerDep
from app.deps import NamesLangDep, ServiceAuth, SessionDep
from app.schemas.appointments import (
    AppointmentCreate,
    AppointmentOut,
    CancelIn,
    RescheduleIn,
)
from app.services import appointments as svc
from app.services.availability import current_time
from app.services.citizens import phone_or_422

router = APIRouter(prefix="/appointments", tags=["appointments"])

NowDep = Annotated[datetime, Depends(current_time)]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=200,
                                       description="a unique key per booking attempt; retries reuse it (24 h)")]
_CONFLICTS: dict[int | str, dict[str, Any]] = {
    409: {"description": "the slot is full or not a bookable slot, or the person is busy then"}}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AppointmentOut, dependencies=[ServiceAuth],
             responses=_CONFLICTS)
def create_appointment(payload: AppointmentCreate, session: SessionDep, now: NowDep,
                       idempotency_key: IdempotencyKey) -> JSONResponse:
    """Book a slot (all or nothing); a retry with the same Idempotency-Key replays the first answer."""
    result = svc.book(session=session, payload=payload, idempotency_key=idempotency_key, now=now)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


@router.get("", response_model=list[AppointmentOut])
def list_appointments(session: SessionDep, caller: CallerDep, now: NowDep,
                      phone: Annotated[str, Query(description="06…, 07…, +212…")],
                      upcoming: Annotated[bool, Query(description="only booked, future ones")] = True,
                      lang: NamesLangDep = None) -> list[AppointmentOut]:
    """A person's appointments (staff: only those at their agency)."""
    return svc.list_for_phone(session=session, phone=phone_or_422(phone), caller=caller, upcoming=upcoming, now=now,
                              lang=lang)


@router.get("/{reference}", response_model=AppointmentOut)
def read_appointment(reference: str, session: SessionDep, caller: CallerDep, lang: NamesLangDep = None
                     ) -> AppointmentOut:
    """One appointment by its reference (staff: only at their agency)."""
    return svc.get_appointment(session=session, reference=reference, caller=caller, lang=lang)


@router.post("/{reference}/cancel", response_model=AppointmentOut, responses=_CONFLICTS)
def cancel_appointment(reference: str, session: SessionDep, caller: CallerDep, now: NowDep,
                       payload: CancelIn | None = None, lang: NamesLangDep = None) -> AppointmentOut:
    """Cancel a booked, future appointment; its seat is freed at once."""
    return svc.cancel(session=session, reference=reference, caller=caller,
                      phone=payload.phone if payload else None, now=now, lang=lang)


@router.post("/{reference}/reschedule", response_model=AppointmentOut, responses=_CONFLICTS)
def reschedule_appointment(reference: str, payload: RescheduleIn, session: SessionDep, caller: CallerDep,
                           now: NowDep, lang: NamesLangDep = None) -> AppointmentOut:
    """Move an appointment to another slot of the same agency; it stays where it was if that slot is taken."""
    return svc.reschedule(session=session, reference=reference, starts_at=payload.starts_at, caller=caller,
                          phone=payload.phone, now=now, lang=lang)
