"""Staff login, logout and identity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.core.security import SESSION_COOKIE, CurrentStaff, presented_token
from app.deps import SessionDep, SettingsDep
from app.schemas.auth import LoginIn, LoginOut, StaffOut
from app.services import auth as svc
from app.services.availability import current_time

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=LoginOut, responses={401: {"description": "wrong email or password"}})
def login(payload: LoginIn, response: Response, session: SessionDep, settings: SettingsDep,
          now: Annotated[datetime, Depends(current_time)]) -> LoginOut:
    """Open a staff session: an opaque token, returned and set as an HttpOnly cookie."""
    result = svc.login(session=session, email=payload.email, password=payload.password, now=now)
    response.set_cookie(SESSION_COOKIE, result.token, max_age=settings.staff_session_minutes * 60, httponly=True,
                        secure=settings.environment == "production", samesite="strict", path="/")
    return result


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(staff: CurrentStaff, response: Response, session: SessionDep,
           token: Annotated[str | None, Depends(presented_token)]) -> Response:
    """End the current staff session."""
    if token:
        svc.logout(session=session, token=token)
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=StaffOut)
def me(staff: CurrentStaff) -> StaffOut:
    """The logged-in staff member."""
    return svc.staff_out(staff)
