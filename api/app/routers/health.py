"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from app.deps import SessionDep
from app.models import Service

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep) -> dict[str, object]:
    """Ready when the database answers and the reference data is loaded."""
    services = session.scalar(select(func.count()).select_from(Service)) or 0
    return {"status": "ok" if services else "empty", "services": services}
