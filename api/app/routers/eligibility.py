"""Which programmes fit a person, and what to ask next."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import LangDep, SessionDep
from app.schemas.eligibility import EligibilityOut, Profile
from app.services.eligibility import check_eligibility

router = APIRouter(prefix="/eligibility", tags=["eligibility"])


@router.post("", response_model=EligibilityOut)
def post_eligibility(profile: Profile, session: SessionDep, lang: LangDep) -> EligibilityOut:
    """Every programme ranked eligible / maybe / not_eligible for the profile, with reasons."""
    return check_eligibility(session=session, profile=profile, lang=lang)
