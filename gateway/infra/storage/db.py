"""Engines for SQLite (the default, in WAL mode) and PostgreSQL, and schema migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Engine, create_engine, event, make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def connect(url: str) -> Engine:
    """An engine for a database URL (sqlite:///path or postgresql+psycopg://...)."""
    engine = create_engine(url, future=True, pool_pre_ping=_pings(url), **_pool(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def own_engine(engine: Engine, *, connections: int = 2) -> Engine:
    """A second engine on the same database with a small pool of its own, for a component
    that must never wait on connections the request threads hold (the chain-state index)."""
    own = create_engine(
        engine.url,
        future=True,
        pool_pre_ping=_pings(engine.url),
        pool_size=connections,
        max_overflow=connections,
    )
    if own.dialect.name == "sqlite":
        event.listen(own, "connect", _sqlite_pragmas)
    return own


def _pool(url: str | URL) -> dict[str, int]:
    # Every request thread (anyio's 40) holds a connection: past the pool, each request
    # opened a SQLite connection and closed it, and its first statement read the schema again.
    return {"pool_size": 40, "max_overflow": 10} if make_url(url).get_backend_name() == "sqlite" else {}


def _pings(url: str | URL) -> bool:
    # A server's connection can be dropped under the pool (a restart, an idle timeout); a
    # SQLite file's cannot, and a ping per checkout cost reads a query each.
    return make_url(url).get_backend_name() != "sqlite"


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to a revision with the committed Alembic migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while the worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
