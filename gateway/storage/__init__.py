"""The gateway's database: SQLAlchemy 2 models, engine set-up and Alembic migrations."""

from gateway.storage.db import connect, migrate
from gateway.storage.models import AnchorBatch, Base, BatchState, OutboxEntry, OutboxKind, StoredRecord

__all__ = [
    "AnchorBatch",
    "Base",
    "BatchState",
    "OutboxEntry",
    "OutboxKind",
    "StoredRecord",
    "connect",
    "migrate",
]
