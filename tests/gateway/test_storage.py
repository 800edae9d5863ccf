"""The gateway's database on real SQLite and real PostgreSQL: migrations, atomic writes, constraints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chain_client import RecordLeaf, SignedRecord, SubjectOpening
from gateway.infra.envelope import Keyring, SealedPayload, open_sealed
from gateway.infra.storage import (
    RECORDS,
    AnchorBatch,
    Base,
    BatchState,
    OutboxEntry,
    OutboxKind,
    StoredRecord,
    connect,
    migrate,
)
from gateway.infra.storage.db import MIGRATIONS
from gateway.infra.storage.leaves import leaf_of
from gateway.records.intake import _RECORD_COLUMNS, store_records


def _record(**changes: object) -> StoredRecord:
    fields: dict[str, object] = {
        "record_id": os.urandom(32),
        "catalog_id": os.urandom(32),
        "catalog_version": 1,
        "subject_ref": os.urandom(32),
        "subject_tag": os.urandom(32),
        "subject_salt": os.urandom(32),
        "content_hash": os.urandom(32),
        "provider": "0x917A6C517e2940FA51575f7E7BE9B3445cc69492",
        "issued_at": 1_760_000_000,
        "supersedes": bytes(32),
        "signature": os.urandom(65),
        "ciphertext": os.urandom(100),
        "nonce": os.urandom(12),
        "wrapped_key": os.urandom(48),
        "key_nonce": os.urandom(12),
        "kek_id": "kek-1",
    }
    fields.update(changes)
    return StoredRecord(**fields)


def test_migrations_create_every_table_once(engine: Engine) -> None:
    """The migrations create the tables and record the latest revision; running them again changes nothing."""
    tables = set(inspect(engine).get_table_names())
    assert {"records", "outbox", "anchor_batches", "alembic_version"} <= tables
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == _head()


def _head() -> str:
    """The last committed migration: one head, the revision a migrated database records."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return str(head)


def test_migrations_match_the_models(engine: Engine) -> None:
    """Autogenerate finds no difference between the migrated schema and the models."""
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_record_and_outbox_entry_commit_together(engine: Engine) -> None:
    """A record and its outbox entry are written in one transaction: both, or neither."""
    accepted, refused = os.urandom(32), os.urandom(32)
    with Session(engine) as session, session.begin():
        session.add(_record(record_id=accepted))
        session.add(OutboxEntry(kind=OutboxKind.RECORD, ref=accepted))

    def write_refused() -> None:
        with Session(engine) as session, session.begin():
            session.add(_record(record_id=refused))
            session.add(OutboxEntry(kind=OutboxKind.RECORD, ref=refused))
            session.flush()
            session.add(_record(record_id=accepted))  # a duplicate recordId fails the whole transaction

    with pytest.raises(IntegrityError):
        write_refused()
    with Session(engine) as session:
        assert session.get(StoredRecord, accepted) is not None
        assert session.get(StoredRecord, refused) is None
        pending = session.scalars(select(OutboxEntry.ref).where(OutboxEntry.batch_id.is_(None))).all()
        assert pending == [accepted]


def test_a_batch_root_is_stored_once(engine: Engine) -> None:
    """The database refuses a second batch with the same root, as the chain does."""
    root = os.urandom(32)
    with Session(engine) as session, session.begin():
        session.add(AnchorBatch(kind=OutboxKind.RECORD, state=BatchState.BUILDING, root=root, count=1))
    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        session.add(AnchorBatch(kind=OutboxKind.RECORD, state=BatchState.BUILDING, root=root, count=1))


def test_a_database_of_leaves_before_subject_tags_is_refused_untouched(tmp_path: Path) -> None:
    """Revision 0006 changes what a leaf names (subjectTag for subjectRef): a database holding records of the
    old leaves is refused with what to do, left at 0005 with its rows; an empty one upgrades."""
    engine = connect(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0005")
    columns = "record_id, catalog_id, catalog_version, subject_ref, content_hash, provider, issued_at, supersedes, "
    columns += "signature, ciphertext, nonce, wrapped_key, key_nonce, kek_id"
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO records ({columns}) VALUES ({', '.join(':' + c for c in columns.split(', '))})"),
            {name: os.urandom(32) for name in columns.split(", ")}
            | {"catalog_version": 1, "provider": "0x" + "11" * 20, "issued_at": 1, "kek_id": "kek-1"},
        )
    with pytest.raises(RuntimeError, match="holds 1 records whose leaves name the subject by its stable subjectRef"):
        migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0005"
        assert connection.execute(text("SELECT COUNT(*) FROM records")).scalar_one() == 1
    engine.dispose()
    empty = connect(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(empty, "0005")
    migrate(empty)
    assert {"subject_tag", "subject_salt"} <= {c["name"] for c in inspect(empty).get_columns("records")}
    empty.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    """The default SQLite database uses WAL and enforces foreign keys."""
    engine = connect(f"sqlite:///{tmp_path / 'wal.db'}")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        session.add(OutboxEntry(kind=OutboxKind.RECORD, ref=os.urandom(32), batch_id=999))
    engine.dispose()


def test_bulk_intake_writes_every_column_and_reads_back_as_given(engine: Engine) -> None:
    """store_records' driver-level insert fills every column it owns; rows, payloads and outbox order read back."""
    assert set(_RECORD_COLUMNS) == {c.name for c in RECORDS.columns} - {"received_at", "batch_id", "leaf_index"}
    keyring = Keyring.generate()
    given = []
    for i in range(3):
        subject = SubjectOpening(os.urandom(32), os.urandom(32))
        leaf = RecordLeaf.create(
            catalog_id=os.urandom(32),
            catalog_version=2,
            subject_tag=subject.tag(),
            content_hash=os.urandom(32),
            provider="0x917A6C517e2940FA51575f7E7BE9B3445cc69492",
            issued_at=1_760_000_000 + i,
            supersedes=os.urandom(32),
        )
        given.append((SignedRecord(leaf, os.urandom(65)), subject, f'{{"n": {i}}}'.encode()))
    with Session(engine) as session, session.begin():
        assert store_records(session, keyring, given + given[:1]) == {r.leaf.record_id for r, _, _ in given}
    with Session(engine) as session:
        for record, subject, plaintext in given:
            row = session.get_one(StoredRecord, record.leaf.record_id)
            assert leaf_of(row) == record.leaf
            assert (row.subject_ref, row.subject_salt) == (subject.subject_ref, subject.subject_salt)
            assert row.signature == record.signature
            assert row.received_at is not None
            sealed = SealedPayload(row.ciphertext, row.nonce, row.wrapped_key, row.key_nonce, row.kek_id)
            assert open_sealed(keyring, row.record_id, sealed) == plaintext
        refs = list(session.scalars(select(OutboxEntry.ref).order_by(OutboxEntry.id)))
    assert refs == [r.leaf.record_id for r, _, _ in given]
