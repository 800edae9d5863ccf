"""What a request could have written: row counts of the gateway's tables, and whether a nonce was used up."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gateway.infra.storage import AccessLogEntry, Consent, OutboxEntry, RequestNonce, StoredRecord

# Every table a request writes to. Anchor batches are left out: the worker writes those
# on its own time, and an accepted record shows in records and outbox first anyway.
REQUEST_TABLES = {
    "records": StoredRecord,
    "outbox": OutboxEntry,
    "consents": Consent,
    "access_log": AccessLogEntry,
}
# The gateway purges nonces whose window has passed at each chain poll; nonces that
# outlive this margin cannot go while one request is being sent and answered.
NONCE_MARGIN_S = 60


def stored_rows(engine: Engine, *, now: int) -> dict[str, int]:
    """Rows in each table a request writes to; of the nonces, those the purge leaves alone for a minute."""
    with Session(engine) as session:
        counts = {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in REQUEST_TABLES.items()
        }
        lasting = select(func.count()).select_from(RequestNonce).where(RequestNonce.expires_at > now + NONCE_MARGIN_S)
        counts["request_nonces"] = int(session.scalar(lasting) or 0)
    return counts


def nonce_used(engine: Engine, address: str, nonce: str) -> bool:
    """Whether the gateway holds this signer's nonce as used."""
    with Session(engine) as session:
        return session.get(RequestNonce, (address, nonce)) is not None
