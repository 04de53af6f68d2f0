"""Erasure of a person's data (the bot's "delete my data")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from app.deps import ServiceAuth, SessionDep
from app.schemas.citizens import ErasureOut
from app.services.availability import current_time
from app.services.citizens import erase

router = APIRouter(prefix="/citizens", tags=["citizens"], dependencies=[ServiceAuth])


@router.delete("/{phone}", response_model=ErasureOut)
def delete_citizen(phone: str, session: SessionDep, now: Annotated[datetime, Depends(current_time)]) -> ErasureOut:
    """Erase a person: future appointments cancelled, then name, phone and notes removed."""
    return erase(session=session, raw_phone=phone, now=now)
