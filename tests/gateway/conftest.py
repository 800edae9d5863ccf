"""Fixtures for the gateway tests: a migrated database of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.infra.storage import connect, migrate
from tests.support.databases import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of each kind."""
    if request.param == "sqlite":
        engine = connect(f"sqlite:///{tmp_path / 'gateway.db'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    with postgres_database() as url:
        engine = connect(url)
        migrate(engine)
        yield engine
        engine.dispose()
