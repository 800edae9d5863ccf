"""Store accepted records: sealed payload and outbox entry, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from chain_client import SignedRecord
from gateway.envelope import Keyring, seal
from gateway.storage import OUTBOX, RECORDS, OutboxKind, StoredRecord

_LOOKUP_CHUNK = 500  # ids per IN (...) query, well under every database's parameter limit


def store_record(session: Session, keyring: Keyring, record: SignedRecord, plaintext: bytes) -> bool:
    """Add a record and its outbox entry to the session; False when the recordId is stored already."""
    return bool(store_records(session, keyring, [(record, plaintext)]))


def store_records(session: Session, keyring: Keyring, records: Sequence[tuple[SignedRecord, bytes]]) -> set[bytes]:
    """Add records and their outbox entries; the recordIds that were new.

    Idempotent on recordId: a record stored already (or twice in `records`) is added
    once. The caller commits, so a record is never stored without its outbox entry.
    Existing ids are found with a few IN queries and the rows are inserted with two
    Core executemany INSERTs (no ORM objects: a bulk is up to 10,000 records), which
    keeps a bulk's write transaction short.
    """
    ids = [record.leaf.record_id for record, _ in records]
    existing: set[bytes] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        existing.update(session.scalars(select(StoredRecord.record_id).where(StoredRecord.record_id.in_(chunk))))
    added: dict[bytes, None] = {}  # insertion order: outbox ids follow the bulk's order
    rows: list[dict[str, object]] = []
    for record, plaintext in records:
        leaf = record.leaf
        if leaf.record_id in existing or leaf.record_id in added:
            continue
        sealed = seal(keyring, leaf.record_id, plaintext)
        rows.append(
            {
                "record_id": leaf.record_id,
                "catalog_id": leaf.catalog_id,
                "catalog_version": leaf.catalog_version,
                "subject_ref": leaf.subject_ref,
                "content_hash": leaf.content_hash,
                "provider": leaf.provider,
                "issued_at": leaf.issued_at,
                "supersedes": leaf.supersedes,
                "signature": record.signature,
                "ciphertext": sealed.ciphertext,
                "nonce": sealed.nonce,
                "wrapped_key": sealed.wrapped_key,
                "key_nonce": sealed.key_nonce,
                "kek_id": sealed.kek_id,
            }
        )
        added[leaf.record_id] = None
    if rows:
        # Core inserts on the session's connection (one executemany each): the ORM's bulk
        # path would build and inspect a mapping per row for nothing it needs here.
        connection = session.connection()
        connection.execute(insert(RECORDS), rows)
        connection.execute(insert(OUTBOX), [{"kind": OutboxKind.RECORD, "ref": ref} for ref in added])
    return set(added)
