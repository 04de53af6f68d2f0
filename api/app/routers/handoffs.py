"""Callback requests for a human adviser (questions and complaints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.deps import ServiceAuth, SessionDep
from app.schemas.handoffs import HandoffCreate, HandoffOut
from app.services.availability import current_time
from app.services.handoffs import create_handoff

router = APIRouter(prefix="/handoffs", tags=["handoffs"], dependencies=[ServiceAuth])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=HandoffOut)
def post_handoff(payload: HandoffCreate, session: SessionDep,
                 now: Annotated[datetime, Depends(current_time)]) -> HandoffOut:
    """Record a request to be called back by an adviser of the agency (or of the named place)."""
    return create_handoff(session=session, payload=payload, now=now)
