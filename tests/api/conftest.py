"""Backend test fixtures: a real database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is
set by `make test`), migrated by Alembic, seeded with the real reference data, emptied of
everything people create between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from app.core.config import get_settings
from app.core.db import get_session, make_engine
from app.main import create_app
from app.models import Appointment, Base, Citizen, Handoff, IdempotencyRecord, OutboxMessage, StaffSession, StaffUser
from app.services.seed import seed_all
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session, sessionmaker

# Tables that tests write to; reference tables (agencies, services, programmes) stay seeded.
MUTABLE = (OutboxMessage, IdempotencyRecord, Handoff, StaffSession, Appointment, Citizen, StaffUser)


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(__file__).resolve().parents[2] / "api" / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = _database_url(tmp_path_factory)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    _migrate(url)
    with Session(engine) as session:
        seed_all(session=session, reference_dir=get_settings().reference_dir)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    yield factory
    with factory() as session:
        for model in MUTABLE:
            session.execute(delete(model))
        session.commit()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app()

    def _session() -> Iterator[Session]:
        with session_factory() as session:
            yield session

    app.dependency_overrides[get_session] = _session
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def service_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {get_settings().service_token}"}


__all__ = ["Base"]
