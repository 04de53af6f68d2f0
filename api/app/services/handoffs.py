"""Callback requests: a person asks to be called back by a human adviser."""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Handoff
from app.schemas.handoffs import HandoffCreate, HandoffOut
from app.services.availability import as_utc, bookable_agency, stored_utc
from app.services.citizens import upsert_citizen


def _record(session: Session, *, payload: HandoffCreate, now: datetime) -> Handoff:
    # The person is recorded like a booker, so that "delete my data" finds the request too.
    citizen = upsert_citizen(session, phone=payload.phone, full_name=payload.full_name, language=payload.language,
                             channel=payload.channel, whatsapp_opt_in=False, now=now)
    handoff = Handoff(citizen_id=citizen.id, agency_id=payload.agency_id, phone=payload.phone,
                      full_name=payload.full_name or citizen.full_name, place=payload.place, reason=payload.reason,
                      summary=payload.summary, language=payload.language, channel=payload.channel, status="open",
                      created_at=now, updated_at=now)
    session.add(handoff)
    session.commit()
    return handoff


def create_handoff(*, session: Session, payload: HandoffCreate, now: datetime) -> HandoffOut:
    now = as_utc(now)
    if payload.agency_id and bookable_agency(session, payload.agency_id) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown agency: {payload.agency_id}")
    for attempt in range(2):
        try:
            handoff = _record(session, payload=payload, now=now)
            break
        except IntegrityError:
            # The same person was recorded by a concurrent request: their row exists now.
            session.rollback()
            if attempt:
                raise
    return HandoffOut(id=handoff.id, status=handoff.status, reason=handoff.reason, agency_id=handoff.agency_id,
                      place=handoff.place, language=handoff.language, channel=handoff.channel,
                      created_at=stored_utc(handoff.created_at))
