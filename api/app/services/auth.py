"""Staff accounts and sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import HTTPException, status
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.security import (
    ROLES,
    dummy_hash,
    hash_password,
    needs_rehash,
    new_session_token,
    token_digest,
    verify_password,
)
from app.models import Agency, StaffSession, StaffUser
from app.schemas.auth import LoginOut, StaffOut
from app.services.availability import as_utc

# One message for an unknown email and a wrong password: a login form must not reveal who has an account.
BAD_CREDENTIALS = "wrong email or password"
MIN_PASSWORD_LENGTH = 12


def staff_out(staff: StaffUser) -> StaffOut:
    return StaffOut(id=staff.id, email=staff.email, full_name=staff.full_name, role=staff.role,  # type: ignore[arg-type]
                    agency_id=staff.agency_id, language=staff.language)


def create_staff(*, session: Session, email: str, full_name: str, role: str, agency_id: str | None,
                 password: str, language: str = "fr") -> StaffUser:
    """A new account; ValueError(reason) when the input is not acceptable."""
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError("email: not an email address")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "staff" and not agency_id:
        raise ValueError("a staff account is bound to one agency: give --agency")
    if agency_id and session.get(Agency, agency_id) is None:
        raise ValueError(f"unknown agency: {agency_id}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)) is not None:
        raise ValueError(f"an account already exists for {email}")
    staff = StaffUser(email=email, full_name=full_name.strip(), role=role, agency_id=agency_id,
                      password_hash=hash_password(password), language=language, active=True)
    session.add(staff)
    session.commit()
    return staff


def login(*, session: Session, email: str, password: str, now: datetime) -> LoginOut:
    now = as_utc(now)
    staff = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if staff is None or not staff.active:
        verify_password(dummy_hash(), password)  # same cost as a real check
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, BAD_CREDENTIALS)
    if not verify_password(staff.password_hash, password):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, BAD_CREDENTIALS)
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    token = new_session_token()
    expires_at = now + timedelta(minutes=get_settings().staff_session_minutes)
    # Expired sessions of this person are pruned at each login rather than by a background job.
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id, StaffSession.expires_at <= now))
    session.add(StaffSession(token_hash=token_digest(token), staff_id=staff.id, expires_at=expires_at, created_at=now))
    session.commit()
    return LoginOut(token=token, expires_at=expires_at, staff=staff_out(staff))


def logout(*, session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.token_hash == token_digest(token)))
    session.commit()
