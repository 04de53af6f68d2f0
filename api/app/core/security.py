"""Staff authentication: argon2 password hashes, opaque session tokens stored hashed, and the
dependencies that identify the caller and keep staff inside their own agency."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Cookie, Depends, Header, HTTPException, status
from sqlalchemy import Select, false
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.deps import SessionDep, SettingsDep
from app.models import StaffSession, StaffUser

SESSION_COOKIE = "ge_staff_session"
ROLES = ("staff", "admin")
_hasher = PasswordHasher()
_S = TypeVar("_S", bound=Select[Any])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures take the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits: a fast hash is enough, and a stolen table reveals no token.
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def _unauthorized(message: str = "staff login required") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def staff_for_token(session: Session, token: str) -> StaffUser | None:
    row = session.get(StaffSession, token_digest(token))
    if row is None:
        return None
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        return None
    staff = session.get(StaffUser, row.staff_id)
    return staff if staff is not None and staff.active else None


def presented_token(
    authorization: Annotated[str | None, Header()] = None,
    cookie_token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> str | None:
    """The staff session token of the request: the Authorization header first, then the cookie."""
    return bearer_token(authorization) or cookie_token


def current_staff(session: SessionDep, token: Annotated[str | None, Depends(presented_token)]) -> StaffUser:
    """The logged-in staff member, from `Authorization: Bearer <token>` or the session cookie."""
    staff = staff_for_token(session, token) if token else None
    if staff is None:
        raise _unauthorized()
    return staff


CurrentStaff = Annotated[StaffUser, Depends(current_staff)]


def require_admin(staff: CurrentStaff) -> StaffUser:
    if staff.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs the admin role")
    return staff


AdminStaff = Annotated[StaffUser, Depends(require_admin)]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the action server (service token) or a staff member."""

    staff: StaffUser | None

    @property
    def is_service(self) -> bool:
        return self.staff is None


def service_or_staff(
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
    cookie_token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Caller:
    token = bearer_token(authorization)
    if token is not None and hmac.compare_digest(token.encode(), settings.service_token.encode()):
        return Caller(staff=None)
    token = token or cookie_token
    staff = staff_for_token(session, token) if token else None
    if staff is None:
        raise _unauthorized("a valid service token or staff login is required")
    return Caller(staff=staff)


CallerDep = Annotated[Caller, Depends(service_or_staff)]


def can_see_agency(staff: StaffUser | None, agency_id: str | None) -> bool:
    """Admins and the service see every agency; a staff member only their own."""
    if staff is None or staff.role == "admin":
        return True
    return staff.agency_id is not None and staff.agency_id == agency_id


def scope_to_agency(stmt: _S, *, staff: StaffUser | None, column: InstrumentedAttribute[Any]) -> _S:
    """Restrict a query to the staff member's agency (admins and the service are not restricted)."""
    if staff is None or staff.role == "admin":
        return stmt
    # A staff account without an agency sees nothing rather than everything.
    return stmt.where(column == staff.agency_id) if staff.agency_id else stmt.where(false())


def agency_scope(staff: CurrentStaff) -> str | None:
    """The agency a staff member's pages are limited to; None for an admin (every agency)."""
    if staff.role == "admin":
        return None
    if not staff.agency_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this staff account is not bound to an agency")
    return staff.agency_id


AgencyScope = Annotated[str | None, Depends(agency_scope)]
