"""Store accepted records: sealed payload and outbox entry, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from chain_client import SignedRecord, SubjectOpening
from gateway.infra.envelope import Keyring, seal
from gateway.infra.storage import OUTBOX, RECORDS, OutboxKind, StoredRecord

_LOOKUP_CHUNK = 500  # ids per IN (...) query, well under every database's parameter limit


StoredInput = tuple[SignedRecord, SubjectOpening, bytes]  # the record, its subject tag's opening, its plaintext


def store_record(
    session: Session, keyring: Keyring, record: SignedRecord, subject: SubjectOpening, plaintext: bytes
) -> bool:
    """Add a record and its outbox entry to the session; False when the recordId is stored already."""
    return bool(store_records(session, keyring, [(record, subject, plaintext)]))


def store_records(session: Session, keyring: Keyring, records: Sequence[StoredInput]) -> set[bytes]:
    """Add records and their outbox entries; the recordIds that were new.

    Idempotent on recordId: a record stored already (or twice in `records`) is added
    once. The caller commits, so a record is never stored without its outbox entry.
    Existing ids are found with a few IN queries and the rows are inserted with two
    executemany INSERTs (no ORM objects: a bulk is up to 10,000 records), which keeps a
    bulk's write transaction short.
    """
    ids = [record.leaf.record_id for record, _, _ in records]
    existing: set[bytes] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        existing.update(session.scalars(select(StoredRecord.record_id).where(StoredRecord.record_id.in_(chunk))))
    added: dict[bytes, None] = {}  # insertion order: outbox ids follow the bulk's order
    rows: list[tuple[object, ...]] = []
    for record, subject, plaintext in records:
        leaf = record.leaf
        if leaf.record_id in existing or leaf.record_id in added:
            continue
        sealed = seal(keyring, leaf.record_id, plaintext)
        rows.append(
            (
                leaf.record_id,
                leaf.catalog_id,
                leaf.catalog_version,
                subject.subject_ref,
                leaf.subject_tag,
                subject.subject_salt,
                leaf.content_hash,
                leaf.provider,
                leaf.issued_at,
                leaf.supersedes,
                record.signature,
                sealed.ciphertext,
                sealed.nonce,
                sealed.wrapped_key,
                sealed.key_nonce,
                sealed.kek_id,
            )
        )
        added[leaf.record_id] = None
    if rows:
        connection = session.connection()
        _insert_records(connection, rows)
        connection.execute(insert(OUTBOX), [{"kind": OutboxKind.RECORD, "ref": ref} for ref in added])
    return set(added)


_RECORD_COLUMNS = (  # in the order store_records builds its row tuples
    "record_id",
    "catalog_id",
    "catalog_version",
    "subject_ref",
    "subject_tag",
    "subject_salt",
    "content_hash",
    "provider",
    "issued_at",
    "supersedes",
    "signature",
    "ciphertext",
    "nonce",
    "wrapped_key",
    "key_nonce",
    "kek_id",
)


def _insert_records(connection: Connection, rows: list[tuple[object, ...]]) -> None:
    """One executemany of plain tuples straight to the driver (sqlite3 and psycopg take
    bytes, ints and strings as they are): SQLAlchemy's per-row parameter processing was
    a third of the cost of storing a bulk."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"  # sqlite3; psycopg
    columns = ", ".join(_RECORD_COLUMNS)  # constants: nothing of the request reaches the SQL text
    marks = ", ".join([mark] * len(_RECORD_COLUMNS))
    connection.exec_driver_sql(f"INSERT INTO {RECORDS.name} ({columns}) VALUES ({marks})", rows)
