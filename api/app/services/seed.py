"""Load every kind of reference data, in dependency order; idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.services.agencies import import_agencies
from app.services.catalogue import seed_services
from app.services.programs import seed_programs


def seed_all(*, session: Session, reference_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    counts["services"] = seed_services(session=session, path=reference_dir / "services.yaml")
    counts["agencies"] = import_agencies(session=session, path=reference_dir / "agencies.csv").active
    counts["programs"] = seed_programs(session=session, path=reference_dir / "programmes.yaml")
    return counts
