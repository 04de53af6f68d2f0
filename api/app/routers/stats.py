"""The plan's steering figures (admin role): funnel, breakdowns, progress, capacity, CSV."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import PlainTextResponse

from app.core.security import AdminStaff
from app.deps import LangDep, SessionDep
from app.schemas.stats import CapacityOut, StatsOut
from app.services import exports
from app.services.availability import current_time
from app.services.stats import MAX_CAPACITY_WEEKS, compute_capacity, compute_stats

router = APIRouter(prefix="/stats", tags=["stats"])

NowDep = Annotated[datetime, Depends(current_time)]
FromQuery = Annotated[date | None, Query(alias="from", description="first local day (default: 12 weeks back)")]
ToQuery = Annotated[date | None, Query(alias="to", description="last local day (default today)")]
WeeksQuery = Annotated[int, Query(description=f"this week and the next ones, 1 to {MAX_CAPACITY_WEEKS}")]
_CSV = {200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV"}}


def _csv(body: str, name: str) -> Response:
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("", response_model=StatsOut)
def get_stats(staff: AdminStaff, session: SessionDep, lang: LangDep, now: NowDep, from_date: FromQuery = None,
              to_date: ToQuery = None) -> StatsOut:
    """The funnel conversations → eligibility checks → bookings → attended, its breakdowns, and progress."""
    return compute_stats(session=session, start=from_date, end=to_date, lang=lang, now=now)


@router.get("/export.csv", response_class=PlainTextResponse, responses=_CSV)  # type: ignore[arg-type]
def get_stats_csv(staff: AdminStaff, session: SessionDep, lang: LangDep, now: NowDep, from_date: FromQuery = None,
                  to_date: ToQuery = None) -> Response:
    """The same figures as a spreadsheet file (one row per breakdown group)."""
    stats = compute_stats(session=session, start=from_date, end=to_date, lang=lang, now=now)
    return _csv(exports.stats_csv(stats), f"stats-{stats.from_date}-{stats.to_date}.csv")


@router.get("/capacity", response_model=CapacityOut)
def get_capacity(staff: AdminStaff, session: SessionDep, lang: LangDep, now: NowDep,
                 weeks: WeeksQuery = 4) -> CapacityOut:
    """Per agency and week: adviser seat-slots ahead against the seats booked."""
    return compute_capacity(session=session, weeks=weeks, lang=lang, now=now)


@router.get("/capacity.csv", response_class=PlainTextResponse, responses=_CSV)  # type: ignore[arg-type]
def get_capacity_csv(staff: AdminStaff, session: SessionDep, lang: LangDep, now: NowDep,
                     weeks: WeeksQuery = 4) -> Response:
    """The capacity view as a spreadsheet file."""
    capacity = compute_capacity(session=session, weeks=weeks, lang=lang, now=now)
    return _csv(exports.capacity_csv(capacity), f"capacity-{capacity.from_date}-{capacity.weeks}w.csv")
