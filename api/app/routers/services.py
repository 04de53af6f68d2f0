"""The plan's service catalogue."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import LangDep, SessionDep
from app.schemas.services import ServiceOut
from app.services.catalogue import list_services

router = APIRouter(prefix="/services", tags=["services"])


@router.get("", response_model=list[ServiceOut])
def get_services(session: SessionDep, lang: LangDep) -> list[ServiceOut]:
    """Every service of the plan, in the asked language; all are free of charge."""
    return list_services(session=session, lang=lang)
