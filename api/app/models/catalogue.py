"""The service catalogue of the plan and the programmes it orients people to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class Service(Base):
    __tablename__ = "service"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # {"fr": "...", "ar": "...", "ary": "...", "ary_latn": "..."}
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON)


class Program(Base):
    __tablename__ = "program"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(60))
    as_of: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[str | None] = mapped_column(String(20))
    # The whole localised record of data/reference/programmes.yaml (names, summary, benefits,
    # documents, where to apply, eligibility rules, sources).
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
