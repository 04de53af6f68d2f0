"""ANAPEC agencies: where people are received, when, and by how many advisers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="agence")
    region: Mapped[str] = mapped_column(String(100), index=True)
    province: Mapped[str] = mapped_column(String(100), index=True)
    city: Mapped[str] = mapped_column(String(100))
    # Canonical ids of the gazetteer (data/reference/places.yaml); region and province above
    # keep the French names of the import file for people reading the table.
    region_id: Mapped[str | None] = mapped_column(String(64), index=True)
    province_id: Mapped[str | None] = mapped_column(String(64), index=True)
    place_id: Mapped[str | None] = mapped_column(String(64))
    # Only addresses and phones from a verified source are stored; None means "to be confirmed".
    address: Mapped[str | None] = mapped_column(String(400))
    phone: Mapped[str | None] = mapped_column(String(100))
    address_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # City-level coordinates (GeoNames) unless a source gives the building's; None: not known.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    coordinates_source: Mapped[str | None] = mapped_column(String(200))
    # When advisers receive people, lunch break excluded: {"mon": [["08:30", "12:30"],
    # ["13:30", "16:30"]], ...} in Africa/Casablanca time. No source publishes ANAPEC's hours, so
    # every agency starts with a documented default and hours_verified=False ("to be confirmed").
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hours_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    advisers: Mapped[int] = mapped_column(Integer, default=2)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    source: Mapped[str | None] = mapped_column(String(400))
    as_of: Mapped[str | None] = mapped_column(String(40))
    # Agencies absent from the latest import are deactivated, never deleted: appointments and
    # staff accounts reference them.
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name_in(self, language: str) -> str:
        """The name a person reading `language` is shown: the Arabic one for ar and ary, when known."""
        return self.name_ar if language in ("ar", "ary") and self.name_ar else self.name
