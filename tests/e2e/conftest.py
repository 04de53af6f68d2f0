"""One running stack for every end-to-end and browser test of the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = os.environ.get("E2E_DATABASE_URL") or f"sqlite:///{Path(tmp_path_factory.mktemp('e2e')) / 'e2e.db'}"
    running = Stack(database_url=url).start()
    yield running
    running.stop()
