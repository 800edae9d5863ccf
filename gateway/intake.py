"""Store accepted records: sealed payload and outbox entry, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from chain_client import SignedRecord
from gateway.envelope import Keyring, seal
from gateway.storage import OutboxEntry, OutboxKind, StoredRecord


def store_record(session: Session, keyring: Keyring, record: SignedRecord, plaintext: bytes) -> bool:
    """Add a record and its outbox entry to the session; False when the recordId is stored already.

    Idempotent on recordId: submitting the same record again changes nothing. The caller
    commits, so a record is never stored without its outbox entry.
    """
    leaf = record.leaf
    if session.get(StoredRecord, leaf.record_id) is not None:
        return False
    sealed = seal(keyring, leaf.record_id, plaintext)
    session.add(
        StoredRecord(
            record_id=leaf.record_id,
            catalog_id=leaf.catalog_id,
            catalog_version=leaf.catalog_version,
            subject_ref=leaf.subject_ref,
            content_hash=leaf.content_hash,
            provider=leaf.provider,
            issued_at=leaf.issued_at,
            supersedes=leaf.supersedes,
            signature=record.signature,
            ciphertext=sealed.ciphertext,
            nonce=sealed.nonce,
            wrapped_key=sealed.wrapped_key,
            key_nonce=sealed.key_nonce,
            kek_id=sealed.kek_id,
        )
    )
    session.add(OutboxEntry(kind=OutboxKind.RECORD, ref=leaf.record_id))
    return True
