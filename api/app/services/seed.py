"""Load every kind of reference data, in dependency order; idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.services.catalogue import seed_services


def seed_all(*, session: Session, reference_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    counts["services"] = seed_services(session=session, path=reference_dir / "services.yaml")
    return counts
