"""The programme catalogue: loaded from `data/reference/programmes.yaml`, read localised."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import Program
from app.schemas.programs import Catalogue, ProgrammeRecord, ProgramOut, ProgramSummaryOut


def load_catalogue(path: Path) -> Catalogue:
    """Parse and check the whole file; a missing language or a malformed rule refuses it all."""
    # libyaml's loader when PyYAML has it: the file is large and read at every seed.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    try:
        return Catalogue.model_validate(document)
    except ValidationError as exc:
        raise ValueError(f"{path.name} is not valid:\n{exc}") from exc


def seed_programs(*, session: Session, path: Path) -> int:
    """Make the `program` table hold exactly the file's programmes, in its order."""
    catalogue = load_catalogue(path)
    for position, record in enumerate(catalogue.programmes):
        urls = {key: catalogue.sources[key] for key in record.sources}
        row = session.get(Program, record.id) or Program(id=record.id)
        row.position = position
        row.status = record.status
        row.as_of = record.as_of
        row.confidence = record.confidence
        row.content = record.model_copy(update={"source_urls": urls}).model_dump(mode="json", by_alias=True)
        session.add(row)
    # A programme taken out of the file leaves the catalogue (nothing references programme rows).
    session.execute(delete(Program).where(Program.id.not_in([p.id for p in catalogue.programmes])))
    session.commit()
    return len(catalogue.programmes)


def programme_records(*, session: Session) -> list[ProgrammeRecord]:
    rows = session.scalars(select(Program).order_by(Program.position)).all()
    return [ProgrammeRecord.model_validate(row.content) for row in rows]


def list_programs(*, session: Session, lang: str) -> list[ProgramSummaryOut]:
    return [ProgramSummaryOut.localised(record, lang) for record in programme_records(session=session)]


def get_program(*, session: Session, program_id: str, lang: str) -> ProgramOut | None:
    row = session.get(Program, program_id)
    return ProgramOut.localised(ProgrammeRecord.model_validate(row.content), lang) if row else None


def program_ids(*, session: Session) -> list[str]:
    return list(session.scalars(select(Program.id).order_by(Program.position)))
