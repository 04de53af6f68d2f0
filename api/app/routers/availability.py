"""Free appointment slots of an agency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.deps import SessionDep
from app.schemas.availability import SlotsOut
from app.services.availability import MAX_DAYS, current_time, list_slots

router = APIRouter(tags=["availability"])

NowDep = Annotated[datetime, Depends(current_time)]


@router.get("/agencies/{agency_id}/slots", response_model=SlotsOut, response_model_by_alias=True)
def get_slots(
    agency_id: str,
    session: SessionDep,
    now: NowDep,
    service: Annotated[str, Query(description="service id, e.g. information_orientation")],
    from_date: Annotated[date | None, Query(alias="from", description="first local day (default today)")] = None,
    days: Annotated[int | None, Query(description=f"number of days, 1 to {MAX_DAYS} (default 7)")] = None,
) -> SlotsOut:
    """Free slots (Africa/Casablanca time) of an agency for a service; holidays and closed days listed."""
    return list_slots(session=session, agency_id=agency_id, service_id=service, start=from_date, days=days, now=now)
