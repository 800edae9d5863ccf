"""A gateway served over real HTTP on the embedded chain and SQLite, shared by a module's tests.

Tests keep out of each other's way by using fresh subjects; chain-changing tests
(suspensions, revocations) restore what they change.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.infra.settings import Settings
from tests.support.served import Served, serve_gateway


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A running gateway: embedded chain with the demo consortium and catalog, SQLite, worker on."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("gateway"),
        batch_interval_s=0.1,
        chain_poll_interval_s=0.2,
        public_lookups_per_minute=100_000,  # every test's client is 127.0.0.1: one client to the limiter
    )
    with serve_gateway(settings) as running:
        yield running
