"""Dependencies shared by the routers."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, status
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.core.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

LANGUAGES = ("fr", "ar", "ary", "ary_latn")


def language(lang: Annotated[str, Query(description="fr, ar, ary or ary_latn")] = "fr") -> str:
    if lang not in LANGUAGES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"lang must be one of {', '.join(LANGUAGES)}")
    return lang


LangDep = Annotated[str, Depends(language)]


def names_language(lang: Annotated[str | None, Query(
        description="fr, ar, ary or ary_latn: the agency and service names in this language "
                    "(default: the booking's language)")] = None) -> str | None:
    return None if lang is None else language(lang)


NamesLangDep = Annotated[str | None, Depends(names_language)]


def require_service_token(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """The action server's calls carry `Authorization: Bearer <SERVICE_TOKEN>`."""
    expected = f"Bearer {settings.service_token}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid service token is required",
                            headers={"WWW-Authenticate": "Bearer"})


ServiceAuth = Depends(require_service_token)
