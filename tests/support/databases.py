"""Real databases for the storage tests: a SQLite file, and a fresh PostgreSQL database."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.hardhat import in_ci

POSTGRES_ADMIN_URL = os.environ.get("CREDIT_LEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the local service; dropped afterwards."""
    import psycopg

    name = "credit_ledger_test_" + secrets.token_hex(6)
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if in_ci():
            pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable under CI: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
