"""The programmes the assistant explains (catalogue, localised)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from app.deps import LangDep, SessionDep
from app.schemas.programs import ProgramOut, ProgramSummaryOut
from app.services.programs import get_program, list_programs, program_ids

router = APIRouter(prefix="/programs", tags=["programs"])


@router.get("", response_model=list[ProgramSummaryOut])
def get_programs(session: SessionDep, lang: LangDep) -> list[ProgramSummaryOut]:
    """Every programme with its status (active, to_confirm, closed), in the asked language."""
    return list_programs(session=session, lang=lang)


@router.get("/{program_id}", response_model=ProgramOut, responses={404: {"description": "unknown programme"}})
def get_program_detail(program_id: str, session: SessionDep, lang: LangDep) -> ProgramOut:
    """One programme: benefits with their dates, documents, where to apply, conditions, sources."""
    program = get_program(session=session, program_id=program_id, lang=lang)
    if program is None:
        known = ", ".join(program_ids(session=session))
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown programme {program_id!r}; known: {known}")
    return program
