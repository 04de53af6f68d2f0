"""The plan's service catalogue: loaded from `data/reference/services.yaml`, read localised."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Service
from app.schemas.services import ServiceOut

LANGUAGES = ("fr", "ar", "ary", "ary_latn")


def seed_services(*, session: Session, path: Path) -> int:
    """Upsert the catalogue from YAML; a service missing a language is refused, not half-loaded."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    count = 0
    for position, item in enumerate(document["services"]):
        for field in ("names", "descriptions"):
            missing = [lang for lang in LANGUAGES if not item.get(field, {}).get(lang)]
            if missing:
                raise ValueError(f"service {item['id']}: {field} lacks {', '.join(missing)}")
        service = session.get(Service, item["id"]) or Service(id=item["id"])
        service.position = position
        service.duration_minutes = int(item["duration_minutes"])
        service.names = item["names"]
        service.descriptions = item["descriptions"]
        session.add(service)
        count += 1
    session.commit()
    return count


def list_services(*, session: Session, lang: str) -> list[ServiceOut]:
    rows = session.scalars(select(Service).order_by(Service.position)).all()
    return [ServiceOut.localised(row, lang) for row in rows]
