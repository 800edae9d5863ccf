"""Tables of the gateway's database.

A record row and its outbox entry are written in one transaction, so an accepted
record is never lost: the anchoring worker takes outbox entries into batches whose
state (building -> submitted -> anchored) is persisted before and after each step.
Payloads are stored only sealed (ciphertext and wrapped data key), never in plaintext.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Bytes(LargeBinary):
    """A binary column whose values reach the driver as they are.

    sqlite3 and psycopg both take `bytes`; LargeBinary's default bind processor wraps
    every value again, which was most of the cost of inserting a 10,000-record bulk.
    """

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


class Base(DeclarativeBase):
    """Declarative base of the gateway's tables."""


class OutboxKind(enum.Enum):
    """What an outbox entry asks the worker to anchor."""

    RECORD = "record"
    ACCESS_LOG = "access_log"


class BatchState(enum.Enum):
    """Where an anchoring batch stands; persisted before and after each step."""

    BUILDING = "building"
    SUBMITTED = "submitted"
    ANCHORED = "anchored"


class StoredRecord(Base):
    """A credit record: its leaf fields, the provider's signature and the sealed payload.

    subject_ref is the subject's stable reference, for this gateway's lookups only; the
    leaf names the subject by subject_tag = keccak256(abi.encode(subject_ref, subject_salt)),
    which differs from record to record (docs/formats.md, "Subject tags").
    """

    __tablename__ = "records"

    record_id: Mapped[bytes] = mapped_column(Bytes(32), primary_key=True)
    catalog_id: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    catalog_version: Mapped[int] = mapped_column(Integer)
    subject_ref: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    subject_tag: Mapped[bytes] = mapped_column(Bytes(32))
    subject_salt: Mapped[bytes] = mapped_column(Bytes(32))
    content_hash: Mapped[bytes] = mapped_column(Bytes(32))
    provider: Mapped[str] = mapped_column(String(42), index=True)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    supersedes: Mapped[bytes] = mapped_column(Bytes(32))
    signature: Mapped[bytes] = mapped_column(Bytes(65))
    ciphertext: Mapped[bytes] = mapped_column(Bytes)
    nonce: Mapped[bytes] = mapped_column(Bytes(12))
    wrapped_key: Mapped[bytes] = mapped_column(Bytes)
    key_nonce: Mapped[bytes] = mapped_column(Bytes(12))
    kek_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer)


class OutboxEntry(Base):
    """Work for the anchoring worker; pending while batch_id is empty."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[OutboxKind] = mapped_column(Enum(OutboxKind, native_enum=False, length=16))
    ref: Mapped[bytes] = mapped_column(Bytes(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("anchor_batches.id"))

    __table_args__ = (Index("ix_outbox_pending", "kind", "batch_id", "id"),)


class AnchorBatch(Base):
    """A batch of outbox entries on its way to the chain."""

    __tablename__ = "anchor_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[OutboxKind] = mapped_column(Enum(OutboxKind, native_enum=False, length=16))
    state: Mapped[BatchState] = mapped_column(Enum(BatchState, native_enum=False, length=16), index=True)
    root: Mapped[bytes] = mapped_column(Bytes(32), unique=True)
    count: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[bytes | None] = mapped_column(Bytes(32))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    anchored_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class RequestNonce(Base):
    """A nonce seen in a signed request, kept until its time window has passed."""

    __tablename__ = "request_nonces"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class Consent(Base):
    """A subject's authorization for one member to query its class-B records for a purpose.

    The subject signed it (EIP-712 SubjectConsent, docs/formats.md) under a registrar's
    credential: consent_id and document_hash are the signed digest, credential_hash the
    credential's, checked against the chain's revocations at every read. Rows from before
    subjects signed (no credential_hash) were revoked by migration 0003.
    """

    __tablename__ = "consents"
    __table_args__ = (Index("ux_consents_subject_nonce", "subject_ref", "nonce", unique=True),)

    consent_id: Mapped[bytes] = mapped_column(Bytes(32), primary_key=True)
    subject_ref: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    requester: Mapped[str] = mapped_column(String(42), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[int] = mapped_column(BigInteger)
    document_hash: Mapped[bytes] = mapped_column(Bytes(32))
    created_by: Mapped[str] = mapped_column(String(42))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    subject_key: Mapped[str | None] = mapped_column(String(42))
    credential_hash: Mapped[bytes | None] = mapped_column(Bytes(32), index=True)
    registrar: Mapped[str | None] = mapped_column(String(42))
    credential_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    nonce: Mapped[bytes | None] = mapped_column(Bytes(32))
    signature: Mapped[bytes | None] = mapped_column(Bytes(65))


class SubjectFiling(Base):
    """A subject's own signed objection or repair request, which this gateway filed on chain.

    filing_id is the signed EIP-712 digest (docs/formats.md, SubjectObjection and
    SubjectRepairRequest), the `subjectEvidence` of the ledger's SubjectFiling event: an
    auditor recomputes it from these fields and recovers subject_key from the signature.
    A subject's nonce is used once (replays are refused).
    """

    __tablename__ = "subject_filings"
    __table_args__ = (Index("ux_subject_filings_subject_nonce", "subject_ref", "nonce", unique=True),)

    filing_id: Mapped[bytes] = mapped_column(Bytes(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    subject_ref: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    filed_hash: Mapped[bytes] = mapped_column(Bytes(32))
    evidence_kind: Mapped[str | None] = mapped_column(String(40))
    documents_hash: Mapped[bytes | None] = mapped_column(Bytes(32))
    credential_hash: Mapped[bytes] = mapped_column(Bytes(32))
    subject_key: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[bytes] = mapped_column(Bytes(32))
    signature: Mapped[bytes] = mapped_column(Bytes(65))
    tx_hash: Mapped[bytes | None] = mapped_column(Bytes(32))
    filed_at: Mapped[int] = mapped_column(BigInteger)


class CommitmentSubject(Base):
    """The subject behind a commitment this gateway relayed: its subjectTag's opening.

    The chain holds only the tag; the department's breach record must carry the same tag,
    so the salt is kept here for the department (and never lost with its client's state).
    """

    __tablename__ = "commitment_subjects"

    commitment_id: Mapped[bytes] = mapped_column(Bytes(32), primary_key=True)
    department: Mapped[str] = mapped_column(String(42), index=True)
    subject_ref: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    subject_salt: Mapped[bytes] = mapped_column(Bytes(32))


class SubjectLookup(Base):
    """A member's query by subject id (查询使用登记): who asked about which subjectRef, how and when.

    Public lookups are rate-limited; members' are registered here instead, so probing
    ids for records, commitments or objections is never anonymous.
    """

    __tablename__ = "subject_lookups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester: Mapped[str] = mapped_column(String(42), index=True)
    subject_ref: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(200))
    at: Mapped[int] = mapped_column(BigInteger)


class AccessLogEntry(Base):
    """One release of plaintext; entries are hash-chained by sequence and anchored in batches."""

    __tablename__ = "access_log"

    # Assigned by the writer as previous + 1: the primary key makes two concurrent
    # writers that read the same previous entry collide instead of forking the chain.
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_hash: Mapped[bytes] = mapped_column(Bytes(32), unique=True)
    prev_hash: Mapped[bytes] = mapped_column(Bytes(32))
    requester: Mapped[str] = mapped_column(String(42), index=True)
    record_id: Mapped[bytes] = mapped_column(Bytes(32), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    consent_id: Mapped[bytes] = mapped_column(Bytes(32))
    released_at: Mapped[int] = mapped_column(BigInteger)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer)


# The tables themselves, for Core statements on the hot paths (bulk intake, batch cutting).
RECORDS = cast(Table, StoredRecord.__table__)
OUTBOX = cast(Table, OutboxEntry.__table__)
ACCESS_LOG = cast(Table, AccessLogEntry.__table__)


class IndexedRecordState(Base):
    """A record's lifecycle state as the CreditLedger held it at `block_number` (chain_index).

    Derived data: a row exists only for a record some lifecycle event touched (any other
    is Active, as the contract says), and `credit-ledger index rebuild` recomputes every row.
    """

    __tablename__ = "index_record_states"

    record_id: Mapped[bytes] = mapped_column(Bytes(32), primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    repair_pending: Mapped[bool] = mapped_column(Boolean)
    superseded_by: Mapped[bytes | None] = mapped_column(Bytes(32))
    block_number: Mapped[int] = mapped_column(BigInteger)


class IndexedCommitment(Base):
    """A commitment as the CommitmentRegistry's view returned it at `block_number` (chain_index)."""

    __tablename__ = "index_commitments"

    commitment_id: Mapped[bytes] = mapped_column(Bytes(32), primary_key=True)
    department: Mapped[str] = mapped_column(String(42), index=True)
    kind: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer, index=True)
    made_at: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    subject_tag: Mapped[bytes] = mapped_column(Bytes(32))
    doc_hash: Mapped[bytes] = mapped_column(Bytes(32))
    breach_record_id: Mapped[bytes | None] = mapped_column(Bytes(32))
    block_number: Mapped[int] = mapped_column(BigInteger)


class IndexCursor(Base):
    """The one row saying how far the chain-state index is complete: every event up to
    `block_number` (whose hash is `block_hash`) is applied; `advanced_at` is the wall time
    of the follower's last successful pass."""

    __tablename__ = "index_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[bytes | None] = mapped_column(Bytes(32))
    advanced_at: Mapped[float] = mapped_column(Float)


INDEX_RECORDS = cast(Table, IndexedRecordState.__table__)
INDEX_COMMITMENTS = cast(Table, IndexedCommitment.__table__)
INDEX_CURSOR = cast(Table, IndexCursor.__table__)
