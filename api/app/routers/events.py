"""Conversation events reported by the action server (the funnel's first steps)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.deps import ServiceAuth, SessionDep
from app.schemas.events import EventIn, EventOut
from app.services.availability import current_time
from app.services.events import record_event

router = APIRouter(prefix="/events", tags=["events"], dependencies=[ServiceAuth])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EventOut)
def post_event(payload: EventIn, session: SessionDep, now: Annotated[datetime, Depends(current_time)]) -> EventOut:
    """Record one conversation event (no personal data: codes and place ids only)."""
    return record_event(session=session, payload=payload, now=now)
