"""The integrity sweep behind `credit-ledger audit`: every stored row checked against itself,
its batch and, given a chain, the anchored roots.

Four passes, each reading its table in pages of `page_size` rows in primary-key order
(keyset pagination), so memory is bounded by a page and by the largest batch, never by
the table:

    records         recordId from the row's fields; subjectTag from subjectRef and
                    subjectSalt; the AES-GCM tags of the wrapped data
                    key and of the payload; contentHash from the decrypted payload and
                    seed; subjectRef from the sealed subject id (given the subject key);
                    the provider's EIP-712 signature (given the ledger's domain); batch
                    and leaf index set together
    anchor_batches  state consistent with its transaction, block and time; members of its
                    own kind only, leaf indexes 0..count-1, and their recomputed leaves
                    give its root; given a chain, an ANCHORED root is anchored there with
                    the same kind, count, block and time
    access_log      sequence numbers from 1 without gaps, each prevHash the entryHash of
                    the entry before, each entryHash recomputed from the entry's fields
    outbox          each entry names a stored row, and puts it in the row's batch

A batch whose recomputed leaves give its root proves each of its rows: every row's Merkle
proof leads to that root. A batch whose rows do not is named once, not once per row (a
row whose own fields were altered is named by its own checks as well). Findings name a
row and a check with a short reason built from hashes, ids and counts only: never a
payload, subject id, purpose, key or salt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, aliased, load_only

from chain_client import (
    BatchKind,
    ContentCommitment,
    CreditLedger,
    LedgerDomain,
    StandardMerkleTree,
    address_bytes,
    record_struct_hash,
    recover_address,
    subject_tag,
)
from gateway.infra.envelope import Keyring, PayloadIntegrityError, SealedPayload, UnknownKeyError, open_sealed
from gateway.infra.storage import AccessLogEntry, AnchorBatch, BatchState, OutboxEntry, OutboxKind, StoredRecord
from gateway.infra.storage.leaves import LEAF_COLUMNS, leaf_of, leaf_of_entry
from gateway.infra.subject_ids import SubjectIdError, parse_subject, subject_ref
from gateway.records.access_log import ZERO32

DEFAULT_PAGE_SIZE = 500
# What hashing a row whose columns were altered out of shape raises (a non-address, a
# number too wide for its word): the row fails the check instead of stopping the sweep.
_MALFORMED = (ValueError, OverflowError)

_Row = TypeVar("_Row", StoredRecord, AnchorBatch, AccessLogEntry, OutboxEntry)
_LEAF_COLUMNS = (*LEAF_COLUMNS, StoredRecord.leaf_index)


class Check(StrEnum):
    """The checks a row can fail, by their stable names."""

    RECORD_ID = "record-id"
    SEAL = "seal"
    CONTENT_HASH = "content-hash"
    SUBJECT_REF = "subject-ref"
    SUBJECT_TAG = "subject-tag"
    SIGNATURE = "signature"
    BATCH_LINK = "batch-link"
    BATCH_STATE = "batch-state"
    BATCH_MEMBERS = "batch-members"
    BATCH_ROOT = "batch-root"
    ON_CHAIN = "on-chain"
    SEQUENCE = "sequence"
    PREV_HASH = "prev-hash"
    ENTRY_HASH = "entry-hash"
    OUTBOX = "outbox"


@dataclass(frozen=True)
class Finding:
    """One failed check: the table, the row's key (0x recordId, batch id, sequence, outbox id), why."""

    table: str
    key: str
    check: Check
    reason: str

    def to_json(self) -> dict[str, str]:
        """The finding as a JSON object."""
        return {"table": self.table, "key": self.key, "check": self.check.value, "reason": self.reason}


@dataclass(frozen=True)
class AuditReport:
    """What a sweep read and every check that failed, in table order."""

    records: int
    batches: int
    access_log_entries: int
    outbox_entries: int
    findings: tuple[Finding, ...]
    chain_id: int | None
    not_checked: tuple[str, ...]

    @property
    def clean(self) -> bool:
        """True when no check failed."""
        return not self.findings

    @property
    def bad_rows(self) -> int:
        """How many rows failed at least one check."""
        return len({(f.table, f.key) for f in self.findings})

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "clean": self.clean,
            "counts": {
                "records": self.records,
                "batches": self.batches,
                "accessLogEntries": self.access_log_entries,
                "outboxEntries": self.outbox_entries,
            },
            "badRows": self.bad_rows,
            "chainId": self.chain_id,
            "notChecked": list(self.not_checked),
            "findings": [f.to_json() for f in self.findings],
        }


def audit(
    engine: Engine,
    keyring: Keyring,
    *,
    subject_key: bytes | None = None,
    domain: LedgerDomain | None = None,
    ledger: CreditLedger | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> AuditReport:
    """Sweep the database; checks needing the subject key, the domain or the chain run when given.

    With `ledger`, anchored roots are checked on its chain and signatures under its domain.
    Raises what the database or chain client raise when they cannot be reached.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    sweep = _Sweep(engine, keyring, subject_key, domain or (ledger.domain if ledger else None), ledger, page_size)
    return sweep.run()


@dataclass
class _Sweep:
    """One sweep's inputs and the findings so far."""

    engine: Engine
    keyring: Keyring = field(repr=False)
    subject_key: bytes | None = field(repr=False)
    domain: LedgerDomain | None
    ledger: CreditLedger | None
    page_size: int
    findings: list[Finding] = field(default_factory=list)

    def run(self) -> AuditReport:
        records = self._pass(StoredRecord, StoredRecord.record_id, self._record)
        batches = self._pass(AnchorBatch, AnchorBatch.id, self._batch)
        entries = self._access_log()
        outbox = self._outbox()
        not_checked = []
        if self.subject_key is None:
            not_checked.append("subjectRef (needs the subject key)")
        if self.domain is None:
            not_checked.append("provider signatures (needs the deployment record or the chain)")
        if self.ledger is None:
            not_checked.append("anchored roots on chain (needs the chain)")
        return AuditReport(
            records=records,
            batches=batches,
            access_log_entries=entries,
            outbox_entries=outbox,
            findings=tuple(self.findings),
            chain_id=self.ledger.chain.chain_id if self.ledger else None,
            not_checked=tuple(not_checked),
        )

    def _fail(self, table: str, key: object, check: Check, reason: str) -> None:
        self.findings.append(Finding(table, str(key), check, reason))

    # ------------------------------------------------------------------ paging

    def _pages(self, model: type[_Row], key: Any) -> Iterator[tuple[Session, Sequence[_Row]]]:
        """Pages of rows in key order, each read in a session of its own (one snapshot)."""
        last = None
        while True:
            with Session(self.engine) as session:
                query = select(model).order_by(key).limit(self.page_size)
                if last is not None:
                    query = query.where(key > last)
                rows = session.scalars(query).all()
                if not rows:
                    return
                yield session, rows
                last = getattr(rows[-1], key.key)

    def _pass(self, model: type[_Row], key: Any, check: Callable[[Session, _Row], None]) -> int:
        count = 0
        for session, rows in self._pages(model, key):
            for row in rows:
                check(session, row)
            count += len(rows)
        return count

    # ----------------------------------------------------------------- records

    def _record(self, _session: Session, row: StoredRecord) -> None:
        key = "0x" + row.record_id.hex()
        leaf = leaf_of(row)
        try:
            fields_ok = leaf.computed_record_id() == row.record_id
        except _MALFORMED:
            fields_ok = False
        if not fields_ok:
            self._fail("records", key, Check.RECORD_ID, "the row's fields do not give its recordId")
        try:
            tag_ok = subject_tag(row.subject_ref, row.subject_salt) == row.subject_tag
        except (TypeError, ValueError):
            tag_ok = False
        if not tag_ok:
            self._fail(
                "records", key, Check.SUBJECT_TAG, "the row's subjectRef and subjectSalt do not give its subjectTag"
            )
        if self.domain is not None:
            try:
                signed = recover_address(self.domain.digest(record_struct_hash(leaf)), row.signature)
                signer_ok = signed is not None and signed == address_bytes(row.provider)
            except _MALFORMED:
                signer_ok = False
            if not signer_ok:
                self._fail("records", key, Check.SIGNATURE, "not the provider's EIP-712 signature of the row's fields")
        if (row.batch_id is None) != (row.leaf_index is None):
            self._fail("records", key, Check.BATCH_LINK, "batch and leaf index are not set together")
        sealed = SealedPayload(row.ciphertext, row.nonce, row.wrapped_key, row.key_nonce, row.kek_id)
        try:
            content = _sealed_content(open_sealed(self.keyring, row.record_id, sealed))
        except UnknownKeyError:
            self._fail("records", key, Check.SEAL, f"its key-encryption key {row.kek_id!r} is not in the keyring")
            return
        except PayloadIntegrityError as exc:
            self._fail("records", key, Check.SEAL, str(exc))
            return
        except ValueError:
            self._fail("records", key, Check.CONTENT_HASH, "the decrypted content is not a sealed record")
            return
        subject, commitment = content
        if commitment.content_hash != row.content_hash:
            self._fail("records", key, Check.CONTENT_HASH, "the decrypted payload does not give the row's contentHash")
        if self.subject_key is not None:
            try:
                ref_ok = subject_ref(self.subject_key, parse_subject(subject)) == row.subject_ref
            except SubjectIdError:
                ref_ok = False
            if not ref_ok:
                self._fail(
                    "records", key, Check.SUBJECT_REF, "the sealed subject id does not give the row's subjectRef"
                )

    # ----------------------------------------------------------------- batches

    def _batch(self, session: Session, batch: AnchorBatch) -> None:
        self._batch_state(batch)
        if batch.kind == OutboxKind.RECORD:
            leaves, indexes = self._record_leaves(session, batch.id)
            stray = _count(session, AccessLogEntry.batch_id, batch.id)
            own, other = "records", "access-log entries"
        else:
            leaves, indexes = self._entry_leaves(session, batch.id)
            stray = _count(session, StoredRecord.batch_id, batch.id)
            own, other = "access-log entries", "records"
        if stray:
            self._fail("anchor_batches", batch.id, Check.BATCH_MEMBERS, f"{stray} {other} point at this batch of {own}")
        if len(indexes) != batch.count:
            self._fail(
                "anchor_batches",
                batch.id,
                Check.BATCH_MEMBERS,
                f"holds {len(indexes)} {own}, its count is {batch.count}",
            )
        elif indexes != list(range(len(indexes))):
            self._fail("anchor_batches", batch.id, Check.BATCH_MEMBERS, "its leaf indexes are not 0 to count-1")
        root = _root(leaves)
        if root != batch.root:
            self._fail(
                "anchor_batches",
                batch.id,
                Check.BATCH_ROOT,
                f"its {own} do not give its root 0x{batch.root.hex()}: altered, moved or removed rows",
            )
        if self.ledger is not None and batch.state == BatchState.ANCHORED:
            self._on_chain(batch, self.ledger)

    def _batch_state(self, batch: AnchorBatch) -> None:
        anchoring = (batch.block_number, batch.anchored_at)
        if batch.state == BatchState.ANCHORED and (batch.tx_hash is None or None in anchoring):
            reason = "ANCHORED without its transaction, block or time"
        elif batch.state != BatchState.ANCHORED and anchoring != (None, None):
            reason = f"{batch.state.name} but it records an anchoring block or time"
        elif batch.state == BatchState.SUBMITTED and batch.tx_hash is None:
            reason = "SUBMITTED without a transaction"
        else:
            return
        self._fail("anchor_batches", batch.id, Check.BATCH_STATE, reason)

    def _record_leaves(self, session: Session, batch_id: int) -> tuple[list[bytes | None], list[int | None]]:
        query = (
            select(StoredRecord)
            .options(load_only(*_LEAF_COLUMNS, raiseload=True))
            .where(StoredRecord.batch_id == batch_id)
            .order_by(StoredRecord.leaf_index)
            .execution_options(yield_per=self.page_size)
        )
        leaves: list[bytes | None] = []
        indexes: list[int | None] = []
        for row in session.scalars(query):
            try:
                leaves.append(leaf_of(row).leaf_hash())
            except _MALFORMED:
                leaves.append(None)  # a malformed provider: the row is named by its own checks
            indexes.append(row.leaf_index)
        return leaves, indexes

    def _entry_leaves(self, session: Session, batch_id: int) -> tuple[list[bytes | None], list[int | None]]:
        query = (
            select(AccessLogEntry)
            .where(AccessLogEntry.batch_id == batch_id)
            .order_by(AccessLogEntry.leaf_index)
            .execution_options(yield_per=self.page_size)
        )
        leaves: list[bytes | None] = []
        indexes: list[int | None] = []
        for row in session.scalars(query):
            try:
                leaves.append(leaf_of_entry(row).leaf_hash())
            except _MALFORMED:
                leaves.append(None)
            indexes.append(row.leaf_index)
        return leaves, indexes

    def _on_chain(self, batch: AnchorBatch, ledger: CreditLedger) -> None:
        # Batches are keyed by (gateway, root): the stored transaction names the gateway.
        anchored = ledger.anchored_by_transaction(batch.tx_hash, batch.root) if batch.tx_hash else None
        if anchored is None:
            self._fail(
                "anchor_batches", batch.id, Check.ON_CHAIN, f"root 0x{batch.root.hex()} is not anchored on chain"
            )
            return
        kind = BatchKind.RECORDS if batch.kind == OutboxKind.RECORD else BatchKind.ACCESS_LOG
        problems = []
        if anchored.kind != kind:
            problems.append(f"kind {anchored.kind.name}, not {kind.name}")
        if anchored.count != batch.count:
            problems.append(f"count {anchored.count}, not {batch.count}")
        if (anchored.block_number, anchored.anchored_at) != (batch.block_number, batch.anchored_at):
            problems.append(f"block {anchored.block_number} at {anchored.anchored_at}, not as stored")
        if problems:
            self._fail("anchor_batches", batch.id, Check.ON_CHAIN, "the chain has its root with " + ", ".join(problems))

    # -------------------------------------------------------------- access log

    def _access_log(self) -> int:
        count = 0
        previous: AccessLogEntry | None = None
        for _session, rows in self._pages(AccessLogEntry, AccessLogEntry.sequence):
            for row in rows:
                self._entry(row, previous)
                previous = row
            count += len(rows)
        return count

    def _entry(self, row: AccessLogEntry, previous: AccessLogEntry | None) -> None:
        expected = previous.sequence + 1 if previous else 1
        if row.sequence != expected:
            self._fail(
                "access_log", row.sequence, Check.SEQUENCE, f"entries {expected} to {row.sequence - 1} are missing"
            )
        elif row.prev_hash != (previous.entry_hash if previous else ZERO32):
            what = f"entry {previous.sequence}" if previous else "zero, as the first entry's"
            self._fail("access_log", row.sequence, Check.PREV_HASH, f"its prevHash is not the entryHash of {what}")
        try:
            hash_ok = leaf_of_entry(row).entry_hash() == row.entry_hash
        except _MALFORMED:
            hash_ok = False
        if not hash_ok:
            self._fail("access_log", row.sequence, Check.ENTRY_HASH, "its fields do not give its entryHash")
        if (row.batch_id is None) != (row.leaf_index is None):
            self._fail("access_log", row.sequence, Check.BATCH_LINK, "batch and leaf index are not set together")

    # ------------------------------------------------------------------ outbox

    def _outbox(self) -> int:
        """Each outbox entry against the row it names, read in the same statement."""
        record = aliased(StoredRecord)
        entry = aliased(AccessLogEntry)
        count = 0
        last = 0
        while True:
            with Session(self.engine) as session:
                page = session.execute(
                    select(
                        OutboxEntry.id,
                        OutboxEntry.kind,
                        OutboxEntry.ref,
                        OutboxEntry.batch_id,
                        record.record_id,
                        record.batch_id,
                        entry.sequence,
                        entry.batch_id,
                    )
                    .outerjoin(record, (OutboxEntry.kind == OutboxKind.RECORD) & (record.record_id == OutboxEntry.ref))
                    .outerjoin(
                        entry, (OutboxEntry.kind == OutboxKind.ACCESS_LOG) & (entry.entry_hash == OutboxEntry.ref)
                    )
                    .where(OutboxEntry.id > last)
                    .order_by(OutboxEntry.id)
                    .limit(self.page_size)
                ).all()
            if not page:
                return count
            for outbox_id, kind, ref, batch_id, record_id, record_batch, sequence, entry_batch in page:
                if kind == OutboxKind.RECORD:
                    key = None if record_id is None else "0x" + record_id.hex()
                    self._outbox_link(outbox_id, batch_id, "records", key, record_batch)
                    if record_id is None:
                        self._fail("outbox", outbox_id, Check.OUTBOX, f"names record 0x{ref.hex()}, not stored")
                else:
                    self._outbox_link(outbox_id, batch_id, "access_log", sequence, entry_batch)
                    if sequence is None:
                        self._fail(
                            "outbox", outbox_id, Check.OUTBOX, f"names access-log entry 0x{ref.hex()}, not stored"
                        )
            count += len(page)
            last = page[-1][0]

    def _outbox_link(
        self, outbox_id: int, batch_id: int | None, table: str, key: object, row_batch: int | None
    ) -> None:
        if key is not None and batch_id != row_batch:
            self._fail(
                table,
                key,
                Check.BATCH_LINK,
                f"in batch {row_batch}, but its outbox entry {outbox_id} is in batch {batch_id}",
            )


def _sealed_content(plaintext: bytes) -> tuple[str, ContentCommitment]:
    """The subject id and content commitment of a decrypted record (the form submissions seal)."""
    try:
        content = json.loads(plaintext)
        seed = bytes.fromhex(content["recordSeed"].removeprefix("0x"))
        return str(content["subject"]), ContentCommitment(content["payload"], seed)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError("not a sealed record") from exc


def _root(leaves: list[bytes | None]) -> bytes | None:
    """The root over leaf hashes; None without rows or with a row that has no leaf."""
    hashes = [leaf for leaf in leaves if leaf is not None]
    if not hashes or len(hashes) != len(leaves):
        return None
    return StandardMerkleTree(hashes).root


def _count(session: Session, column: Any, batch_id: int) -> int:
    return int(session.scalar(select(func.count()).where(column == batch_id)) or 0)
