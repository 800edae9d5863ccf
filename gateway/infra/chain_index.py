"""The chain-state index: every record's lifecycle state and every commitment, in the database.

Reads, lists, measures, reports, publicity and screening ask this index, not the chain,
for a record's status: one query for a list of ids instead of one `eth_call` each.

Following. On each poll the region's one follower (the holder of the "index" lease,
gateway.infra.worker_lease) fetches the CreditLedger's and the CommitmentRegistry's logs
from the cursor's block + 1 to the last confirmed block (the head's depth must reach the
`confirmations` setting, as for anchoring), collects the recordIds and commitmentIds they
name, reads each one's state from the contract *at that block*, upserts it and moves the
cursor, in one transaction. Reading the state rather than replaying the events makes the
index equal to the contract by construction; an id no event ever touched has no row and
is Active, as the contract says. Every process reads the index; only the follower writes
the cursor.

Read your writes. A step this gateway relays (gateway.lifecycle) is applied at once from
its receipt: the ids its events name are read at the receipt's block and upserted. An
upsert never replaces a row read at a later block, so a lagging follower cannot undo it;
and the follower reads again every row written at a block it confirms, so a relayed step
that a reorganisation dropped is corrected at confirmation.

Reorganisations. The cursor keeps its block's hash; when the chain no longer has that
block (a reorganisation deeper than the confirmations, or a development chain reverted to
a snapshot) the follower clears the index and follows again from the deployment's block.

Freshness fails closed like the role cache (chain_view): once the follower's last pass
is older than `max_age_s` and no pass can be made now, `as_of_block` raises
ChainUnavailableError (503 CHAIN_UNAVAILABLE).

The index is derived data: a row edited in the database changes answers until the record
is touched again, and `credit-ledger index rebuild` recomputes every row from the chain.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from web3.types import TxReceipt

from chain_client import (
    ChainUnavailableError,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    RecordState,
    RecordStatus,
    Stack,
    checksummed,
)
from gateway.infra.storage import INDEX_COMMITMENTS, INDEX_CURSOR, INDEX_RECORDS, own_engine
from gateway.infra.worker_lease import WorkerLease

ACTIVE = RecordState(RecordStatus.ACTIVE, False, None)
CURSOR_ID = 1
MAX_RANGE = 5_000  # blocks per eth_getLogs request and per transaction
ID_CHUNK = 500  # ids per IN (...) query
FIRST_PASS_POLL_S = 0.1  # how often a starting process looks for the follower's first pass


class IndexLeaseHeldError(Exception):
    """The index lease is held by another process."""


@dataclass(frozen=True)
class IndexPosition:
    """How far the index is complete: its block (-1 before the first pass) and the wall
    time of the follower's last successful pass (0 before it)."""

    block: int
    advanced_at: float

    def age_s(self, now: float) -> float:
        """Seconds since the follower's last pass."""
        return now - self.advanced_at


class ChainIndex:
    """The index of one deployment in one database; `follow()` on each poll, reads any time."""

    def __init__(self, engine: Engine, stack: Stack, *, confirmations: int, max_age_s: float | None) -> None:
        # A pool of the index's own: a request thread asks for freshness while its session
        # holds a connection of the gateway's pool, and may wait on the lock of a pass; if the
        # pass drew from that pool too, a full pool would leave both waiting (pool timeout).
        self.engine = own_engine(engine)
        self.stack = stack
        self.confirmations = confirmations
        self.max_age_s = max_age_s
        self.lease = WorkerLease(self.engine, "index")  # taken under the lock: from the own pool too
        self.following = False
        self._reachable = True  # no pass has failed since the last successful one
        self._lock = threading.Lock()
        self._position = IndexPosition(-1, 0.0)
        self._start_block = min(c.block for c in stack.record.contracts.values())

    # ----------------------------------------------------------------- following

    def follow(self) -> IndexPosition:
        """One pass: as the follower (taking the lease when free), bring the index to the last
        confirmed block; otherwise read how far the follower has brought it.
        ChainUnavailableError when the chain cannot be reached."""
        with self._lock:
            return self._pass()

    def _pass(self) -> IndexPosition:
        self.following = self.lease.held()
        try:
            self._position = self._advance() if self.following else self.read_position()
        except ChainUnavailableError:
            self._reachable = False
            raise
        self._reachable = True
        return self._position

    def await_position(self, bound_s: float, stop: threading.Event) -> IndexPosition:
        """Wait, at most `bound_s`, for the follower's first pass to give the index a position
        (a process that does not follow, starting beside one that is still making it). Each
        check is a pass: should the follower stop meanwhile, this process takes its lease over.
        Returns early, without a position, when the chain or the database fails: the poll retries."""
        deadline = time.monotonic() + bound_s
        while self._position.block < 0 and time.monotonic() < deadline and not stop.wait(FIRST_PASS_POLL_S):
            try:
                self.follow()
            except (ChainUnavailableError, SQLAlchemyError):
                break
        return self._position

    def stop(self) -> None:
        """Give the follower lease up (at shutdown)."""
        with self._lock:
            self.lease.release()
            self.following = False
            self.engine.dispose()

    def rebuild(self) -> IndexPosition:
        """Clear the index and follow the chain again from the deployment's block (idempotent).

        IndexLeaseHeldError when another process follows: two writers would interleave a
        cleared index with a cursor past it."""
        with self._lock:
            self.following = self.lease.held()
            if not self.following:
                raise IndexLeaseHeldError(
                    "another process (a running gateway) follows this database's index: stop it, then rebuild"
                )
            with self.engine.begin() as connection:
                _clear(connection)
            self._position = self._advance()
            return self._position

    def _advance(self) -> IndexPosition:
        chain = self.stack.chain
        head = chain.block_number()
        confirmed = head - self.confirmations + 1
        position = self.read_position()
        start = position.block
        if start >= 0 and not self._still_on_chain(start):
            with self.engine.begin() as connection:
                _clear(connection)
            start = -1
        if start < 0:
            start = self._start_block - 1
        end = start
        while True:
            end = min(confirmed, start + MAX_RANGE) if confirmed > start else start
            with self.engine.begin() as connection:
                if end > start:
                    self._apply_range(connection, start + 1, end)
                self._write_cursor(connection, end, chain.block_hash(end) if end >= 0 else None)
            if end >= confirmed:
                break
            start = end
        return self.read_position()

    def _still_on_chain(self, block: int) -> bool:
        with self.engine.connect() as connection:
            stored = connection.execute(select(INDEX_CURSOR.c.block_hash)).scalar()
        return stored is None or self.stack.chain.block_hash(block) == stored

    def _apply_range(self, connection: Connection, first: int, last: int) -> None:
        ledger, registry = self.stack.ledger, self.stack.commitments
        records = set(ledger.touched_records(first, last))
        commitments = set(registry.touched_commitments(first, last))
        # Rows a relayed step wrote at a block now confirmed are read again (module docstring).
        records |= _written_between(connection, INDEX_RECORDS, INDEX_RECORDS.c.record_id, first, last)
        commitments |= _written_between(connection, INDEX_COMMITMENTS, INDEX_COMMITMENTS.c.commitment_id, first, last)
        self._store(connection, records, commitments, last)

    def _store(
        self, connection: Connection, records: Iterable[bytes], commitments: Iterable[bytes], block: int
    ) -> None:
        ledger, registry = self.stack.ledger, self.stack.commitments
        record_rows = [_record_row(r, ledger.state(r, block=block), block) for r in sorted(records)]
        commitment_rows = [_commitment_row(registry.commitment(c, block=block), block) for c in sorted(commitments)]
        _upsert(connection, INDEX_RECORDS, INDEX_RECORDS.c.record_id, record_rows)
        _upsert(connection, INDEX_COMMITMENTS, INDEX_COMMITMENTS.c.commitment_id, commitment_rows)

    def _write_cursor(self, connection: Connection, block: int, block_hash: bytes | None) -> None:
        row = {"id": CURSOR_ID, "block_number": block, "block_hash": block_hash, "advanced_at": time.time()}
        updated = connection.execute(INDEX_CURSOR.update().where(INDEX_CURSOR.c.id == CURSOR_ID).values(**row))
        if not updated.rowcount:
            connection.execute(INDEX_CURSOR.insert().values(**row))

    # ------------------------------------------------------------ read your writes

    def absorb(self, receipt: TxReceipt) -> None:
        """Apply a relayed step's receipt now: the ids its events name, read at its block."""
        records = self.stack.ledger.touched_in(receipt)
        commitments = self.stack.commitments.touched_in(receipt)
        if not records and not commitments:
            return
        with self.engine.begin() as connection:
            self._store(connection, set(records), set(commitments), int(receipt["blockNumber"]))

    # --------------------------------------------------------------------- reads

    def read_position(self) -> IndexPosition:
        """The cursor as the database holds it."""
        with self.engine.connect() as connection:
            row = connection.execute(select(INDEX_CURSOR.c.block_number, INDEX_CURSOR.c.advanced_at)).first()
        return IndexPosition(-1, 0.0) if row is None else IndexPosition(int(row[0]), float(row[1]))

    @property
    def position(self) -> IndexPosition:
        """The position as of this process's last pass or read (no query)."""
        return self._position

    def as_of_block(self) -> int:
        """The block the index is complete to, after making sure it is fresh enough to answer.

        Past `max_age_s` since the follower's last pass, the cursor is read again (another
        process may follow), and when no pass has failed since the last success (no poll
        loop runs) a pass is made now; once one has failed, requests do not wait on the
        chain again, the poll retries. ChainUnavailableError when the index is still too
        old: the chain cannot be reached, or no follower runs.
        """
        if self._fresh():
            return self._position.block
        with self._lock:
            if not self._fresh():  # another thread may have made the pass meanwhile
                if self._reachable:
                    with contextlib.suppress(ChainUnavailableError):  # judged below by the age
                        self._pass()
                elif not self.following:
                    self._position = self.read_position()
        if not self._fresh():
            raise ChainUnavailableError(
                f"the chain-state index was last advanced {self._position.age_s(time.time()):.0f} s ago (more than"
                f" {self.max_age_s:g} s) and cannot be advanced now"
            )
        return self._position.block

    def _fresh(self) -> bool:
        if self._position.block < 0:
            return False
        return self.max_age_s is None or self._position.age_s(time.time()) <= self.max_age_s

    def record_states(self, connection: Connection, record_ids: Sequence[bytes]) -> dict[bytes, RecordState]:
        """The indexed states of these records (Active when untouched), in batched queries."""
        self.as_of_block()
        found: dict[bytes, RecordState] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            query = select(INDEX_RECORDS).where(INDEX_RECORDS.c.record_id.in_(chunk))
            for row in connection.execute(query).mappings():
                found[bytes(row["record_id"])] = _state_of(row)
        return {record_id: found.get(record_id, ACTIVE) for record_id in record_ids}

    def record_state(self, connection: Connection, record_id: bytes) -> RecordState:
        """One record's indexed state."""
        return self.record_states(connection, [record_id])[record_id]

    def commitment(self, connection: Connection, commitment_id: bytes) -> Commitment | None:
        """A commitment as indexed; None when the index has none."""
        self.as_of_block()
        row = (
            connection.execute(select(INDEX_COMMITMENTS).where(INDEX_COMMITMENTS.c.commitment_id == commitment_id))
            .mappings()
            .first()
        )
        return None if row is None else _commitment_of(row)

    def pending_due_before(self, connection: Connection, now: int, department: str | None) -> list[Commitment]:
        """Pending commitments whose deadline is before now, oldest deadline first."""
        self.as_of_block()
        query = select(INDEX_COMMITMENTS).where(
            INDEX_COMMITMENTS.c.status == int(CommitmentStatus.PENDING), INDEX_COMMITMENTS.c.deadline < now
        )
        if department is not None:
            query = query.where(INDEX_COMMITMENTS.c.department == checksummed(department))
        found = [_commitment_of(row) for row in connection.execute(query).mappings()]
        return sorted(found, key=lambda c: (c.deadline, c.commitment_id))


# ----------------------------------------------------------------------- rows


def _record_row(record_id: bytes, state: RecordState, block: int) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "status": int(state.status),
        "repair_pending": state.repair_pending,
        "superseded_by": state.superseded_by,
        "block_number": block,
    }


def _state_of(row: Any) -> RecordState:
    superseded = row["superseded_by"]
    return RecordState(
        RecordStatus(row["status"]), bool(row["repair_pending"]), bytes(superseded) if superseded else None
    )


def _commitment_row(commitment: Commitment, block: int) -> dict[str, Any]:
    return {
        "commitment_id": commitment.commitment_id,
        "department": commitment.department,
        "kind": int(commitment.kind),
        "status": int(commitment.status),
        "made_at": commitment.made_at,
        "deadline": commitment.deadline,
        "subject_tag": commitment.subject_tag,
        "doc_hash": commitment.doc_hash,
        "breach_record_id": commitment.breach_record_id,
        "block_number": block,
    }


def _commitment_of(row: Any) -> Commitment:
    breach = row["breach_record_id"]
    return Commitment(
        commitment_id=bytes(row["commitment_id"]),
        department=checksummed(row["department"]),
        kind=CommitmentKind(row["kind"]),
        status=CommitmentStatus(row["status"]),
        made_at=int(row["made_at"]),
        deadline=int(row["deadline"]),
        subject_tag=bytes(row["subject_tag"]),
        doc_hash=bytes(row["doc_hash"]),
        breach_record_id=bytes(breach) if breach else None,
    )


def _upsert(connection: Connection, table: Table, key: Any, rows: list[dict[str, Any]]) -> None:
    """Insert or replace rows, never replacing one read at a later block."""
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    columns = {c.name: statement.excluded[c.name] for c in table.columns if c.name != key.name}
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_=columns, where=table.c.block_number <= statement.excluded.block_number
    )
    connection.execute(statement, rows)


def _written_between(connection: Connection, table: Table, key: Any, first: int, last: int) -> set[bytes]:
    query = select(key).where(table.c.block_number >= first, table.c.block_number <= last)
    return {bytes(value) for value in connection.execute(query).scalars()}


def _clear(connection: Connection) -> None:
    for table in (INDEX_RECORDS, INDEX_COMMITMENTS, INDEX_CURSOR):
        connection.execute(delete(table))


def _chunks(ids: list[bytes]) -> Iterable[list[bytes]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]
