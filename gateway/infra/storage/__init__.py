"""The gateway's database: SQLAlchemy 2 models, engine set-up and Alembic migrations."""

from gateway.infra.storage.db import connect, migrate
from gateway.infra.storage.models import (
    ACCESS_LOG,
    OUTBOX,
    RECORDS,
    AccessLogEntry,
    AnchorBatch,
    Base,
    BatchState,
    CommitmentSubject,
    Consent,
    OutboxEntry,
    OutboxKind,
    RequestNonce,
    StoredRecord,
    SubjectFiling,
    SubjectLookup,
)

__all__ = [
    "ACCESS_LOG",
    "OUTBOX",
    "RECORDS",
    "AccessLogEntry",
    "AnchorBatch",
    "Base",
    "BatchState",
    "CommitmentSubject",
    "Consent",
    "OutboxEntry",
    "OutboxKind",
    "RequestNonce",
    "StoredRecord",
    "SubjectFiling",
    "SubjectLookup",
    "connect",
    "migrate",
]
