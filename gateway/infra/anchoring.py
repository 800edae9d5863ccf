"""The anchoring worker: pending records and access-log entries -> Merkle batches -> anchored roots.

Every step is persisted before the next one, so a crash or an unreachable chain delays
work and never loses or doubles it:

    pending outbox entries --cut--> BUILDING (root, members fixed in the database)
    BUILDING --signed tx hash persisted, then sent--> SUBMITTED(tx)
    SUBMITTED --receipt with enough confirmations--> ANCHORED(block, time)

On restart, BUILDING batches are submitted and SUBMITTED ones confirmed; a transaction
the node never saw is sent again. The contract keys batches by (gateway, root) and refuses
a gateway anchoring a root twice; the worker adopts an anchoring it finds on chain only
when it is its own (an earlier transaction of this gateway's account), so no root is
anchored twice by us, and another gateway anchoring our root first, of either kind,
neither blocks nor replaces our anchoring.

A batch that fails (its transaction reverts, or any other error of its own) is logged and
left for the next round: it never stops the round's other batches. Only an unreachable
chain ends a round early, since no batch could go further.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import ColumnElement, Engine, func, select, update
from sqlalchemy.orm import Session

from chain_client import (
    BatchKind,
    ChainUnavailableError,
    ContractRevertError,
    RecordLeaf,
    Stack,
    access_log_tree,
    record_tree,
)
from gateway.infra.logs import get_logger
from gateway.infra.storage import (
    ACCESS_LOG,
    OUTBOX,
    RECORDS,
    AccessLogEntry,
    AnchorBatch,
    BatchState,
    OutboxEntry,
    OutboxKind,
    StoredRecord,
)
from gateway.infra.storage.leaves import LEAF_COLUMNS, leaf_of_entry


@dataclass(frozen=True)
class AnchoringConfig:
    """How the worker batches and how sure it waits to be."""

    batch_size: int = 5000  # the gateway's default (Settings.batch_size)
    confirmations: int = 1
    max_in_flight: int = 16  # batches sent and not yet confirmed


@dataclass(frozen=True)
class RoundReport:
    """What one round of the worker did."""

    anchored_batches: int
    anchored_records: int
    pending_records: int
    chain_available: bool
    failed_batches: int = 0


class AnchoringWorker:
    """Cuts pending records into batches and anchors their roots, crash-safely."""

    def __init__(
        self, engine: Engine, stack: Stack, gateway: LocalAccount, config: AnchoringConfig | None = None
    ) -> None:
        self.engine = engine
        self.stack = stack
        self.gateway = gateway
        self.config = config or AnchoringConfig()

    def run_once(self) -> RoundReport:
        """Resume unfinished batches, then batch and anchor what is pending."""
        anchored: list[AnchorBatch] = []
        failed: list[int] = []
        available = True

        def advance(batch_id: int) -> bool:
            """Advance one batch; True when it is in flight (sent, or failed and left for later)."""
            try:
                done = self._advance(batch_id)
            except ChainUnavailableError:
                raise
            except Exception as exc:  # noqa: BLE001 - one failing batch must not stop the others
                reason = exc.name if isinstance(exc, ContractRevertError) else type(exc).__name__
                _log.warning("anchor batch failed", extra={"fields": {"batchId": batch_id, "error": reason}})
                failed.append(batch_id)
                return True
            if done is None:
                return True
            anchored.append(done)
            return False

        try:
            in_flight = sum(advance(unfinished) for unfinished in self._unfinished())
            # Batches are sent without waiting for the ones before them to be mined (each
            # waits for its own receipt in a later round), so on a chain with real block
            # times a backlog goes out in a few blocks, not one batch per round.
            for kind in (OutboxKind.RECORD, OutboxKind.ACCESS_LOG):
                while in_flight < self.config.max_in_flight and (cut := self._cut_batch(kind)) is not None:
                    in_flight += advance(cut)  # sent, waiting for its receipt and confirmations
        except ChainUnavailableError:
            available = False  # nothing is lost: every step so far is in the database
        return RoundReport(
            anchored_batches=len(anchored),
            anchored_records=sum(b.count for b in anchored if b.kind == OutboxKind.RECORD),
            pending_records=self.pending_count(),
            chain_available=available,
            failed_batches=len(failed),
        )

    def pending_count(self, kind: OutboxKind = OutboxKind.RECORD) -> int:
        """Records (or access-log entries) accepted but not yet in a batch."""
        with Session(self.engine) as session:
            query = select(func.count()).select_from(OutboxEntry).where(_pending(kind))
            return int(session.scalar(query) or 0)

    def lag_seconds(self) -> float:
        """Age of the oldest record not yet anchored (0 when none): the anchoring lag."""
        with Session(self.engine) as session:
            oldest = session.scalar(
                select(func.min(StoredRecord.received_at))
                .outerjoin(AnchorBatch, StoredRecord.batch_id == AnchorBatch.id)
                .where((StoredRecord.batch_id.is_(None)) | (AnchorBatch.state != BatchState.ANCHORED))
            )
        if oldest is None:
            return 0.0
        return max(0.0, time.time() - oldest.timestamp())

    # -------------------------------------------------------------------- steps

    def _unfinished(self) -> list[int]:
        with Session(self.engine) as session:
            query = select(AnchorBatch.id).where(AnchorBatch.state != BatchState.ANCHORED).order_by(AnchorBatch.id)
            return list(session.scalars(query))

    def _cut_batch(self, kind: OutboxKind) -> int | None:
        """Fix the next pending entries of a kind into a BUILDING batch, in one transaction.

        Reads the pending entries with what their leaves need in one joined query, and
        writes the membership with set-based Core statements (an IN update for the outbox,
        one UPDATE ... FROM for the records or log entries): no ORM object and no statement
        per member, so a 10,000-record batch holds the database's write lock briefly.
        """
        with Session(self.engine) as session, session.begin():
            taken = self._take_pending(session, kind)
            if taken is None:
                return None
            outbox_ids, root = taken
            batch = AnchorBatch(kind=kind, state=BatchState.BUILDING, root=root, count=len(outbox_ids))
            session.add(batch)
            session.flush()
            connection = session.connection()
            for start in range(0, len(outbox_ids), _IN_CHUNK):
                chunk = outbox_ids[start : start + _IN_CHUNK]
                connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_(chunk)).values(batch_id=batch.id))
            # Each member's leaf index is its place in outbox order, the order the tree was
            # built in: computed by the database in the same statement that marks it.
            positions = (
                select(OUTBOX.c.ref, (func.row_number().over(order_by=OUTBOX.c.id) - 1).label("position"))
                .where(OUTBOX.c.batch_id == batch.id)
                .subquery()
            )
            members, key = _MEMBERS[kind]
            connection.execute(
                update(members).where(key == positions.c.ref).values(batch_id=batch.id, leaf_index=positions.c.position)
            )
            return batch.id

    def _take_pending(self, session: Session, kind: OutboxKind) -> tuple[list[int], bytes] | None:
        """The next pending outbox ids of a kind (at most a batch, in order) and their tree's root."""

        def next_pending(query: Any) -> list[Any]:  # a select of the outbox id and what the leaves need
            return list(
                session.execute(query.where(_pending(kind)).order_by(OutboxEntry.id).limit(self.config.batch_size))
            )

        if kind == OutboxKind.RECORD:
            rows = next_pending(
                select(OutboxEntry.id, *LEAF_COLUMNS).join(StoredRecord, StoredRecord.record_id == OutboxEntry.ref)
            )
            tree = record_tree([RecordLeaf(*row[1:]) for row in rows]) if rows else None
        else:
            rows = next_pending(
                select(OutboxEntry.id, AccessLogEntry).join(
                    AccessLogEntry, AccessLogEntry.entry_hash == OutboxEntry.ref
                )
            )
            tree = access_log_tree([leaf_of_entry(row[1]) for row in rows]) if rows else None
        return ([row[0] for row in rows], tree.root) if tree is not None else None

    def _advance(self, batch_id: int) -> AnchorBatch | None:
        """Move a batch as far as it can go now; the batch when it became ANCHORED."""
        with Session(self.engine) as session:
            batch = session.get_one(AnchorBatch, batch_id)
            # A few passes: a confirmation may find the transaction lost and send it again.
            for _ in range(3):
                before = (batch.state, batch.tx_hash)
                if batch.state == BatchState.BUILDING:
                    self._submit(session, batch)
                if batch.state == BatchState.SUBMITTED:
                    self._confirm(session, batch)
                if (batch.state, batch.tx_hash) == before or batch.state == BatchState.ANCHORED:
                    break
            if batch.state == BatchState.ANCHORED:
                session.expunge(batch)
                return batch
            return None

    def _submit(self, session: Session, batch: AnchorBatch) -> None:
        kind = BatchKind.RECORDS if batch.kind == OutboxKind.RECORD else BatchKind.ACCESS_LOG
        function = self.stack.ledger.anchor_batch_function(batch.root, batch.count, kind)
        chain = self.stack.chain
        with chain.sending_as(self.gateway.address):
            try:
                chain.preflight(self.gateway.address, function)
                tx = chain.build(self.gateway, function, gas=ANCHOR_BATCH_GAS)
            except ContractRevertError as exc:
                if exc.name == "LedgerRootAlreadyAnchored":
                    self._adopt(session, batch)
                    return
                raise
            tx_hash, raw = chain.sign(self.gateway, tx)
            # Persisted before sending: after a crash the worker looks this hash up again.
            batch.state, batch.tx_hash = BatchState.SUBMITTED, tx_hash
            session.commit()
            chain.send_raw(raw)

    def _confirm(self, session: Session, batch: AnchorBatch) -> None:
        assert batch.tx_hash is not None
        receipt = self.stack.chain.receipt(batch.tx_hash)
        if receipt is None or receipt["status"] != 1:
            if self._anchored_on_chain(batch):
                self._adopt(session, batch)
            elif receipt is not None or not self.stack.chain.knows_transaction(batch.tx_hash):
                batch.state = BatchState.BUILDING  # failed, or never reached the node: send again
                session.commit()
            return
        depth = self.stack.chain.block_number() - int(receipt["blockNumber"]) + 1
        if depth < self.config.confirmations:
            return
        # A successful anchorBatch receipt of ours is the anchoring: the contract stores the
        # root with this block's number and time, so both come from the block, without
        # running a contract call (a full EVM execution on the embedded chain) per batch.
        block_number = int(receipt["blockNumber"])
        batch.state = BatchState.ANCHORED
        batch.block_number, batch.anchored_at = block_number, self.stack.chain.block_timestamp(block_number)
        session.commit()

    def _anchored_on_chain(self, batch: AnchorBatch) -> bool:
        """Whether this gateway has anchored the root (batches are keyed by gateway and root)."""
        try:
            self.stack.ledger.batch(self.gateway.address, batch.root)
        except ContractRevertError:
            return False
        return True

    def _adopt(self, session: Session, batch: AnchorBatch) -> None:
        """This gateway has anchored the root already (an earlier transaction of ours): record that one.

        Only our own anchoring is found here: the ledger keys batches by (gateway, root), so
        another gateway anchoring the same root is another batch, never adopted.
        """
        gateway = self.gateway.address
        anchored = self.stack.ledger.batch(gateway, batch.root)
        found = self.stack.ledger.anchoring_transaction(gateway, batch.root, anchored.block_number)
        batch.tx_hash = found or batch.tx_hash
        batch.state = BatchState.SUBMITTED
        session.commit()
        self._confirm(session, batch)


# anchorBatch costs the same whatever the batch (about 56,000 gas; see chain_client's gas
# snapshot): a fixed limit with headroom, checked by one preflight call, spares the
# binary search of a gas estimate (a dozen executions on the embedded chain) per batch.
ANCHOR_BATCH_GAS = 150_000
_MEMBERS = {  # the table each kind's batch members live in, and the column the outbox refers to
    OutboxKind.RECORD: (RECORDS, RECORDS.c.record_id),
    OutboxKind.ACCESS_LOG: (ACCESS_LOG, ACCESS_LOG.c.entry_hash),
}
_IN_CHUNK = 5_000  # ids per IN (...), under every database's parameter limit
_log = get_logger("anchoring")


def _pending(kind: OutboxKind) -> ColumnElement[bool]:
    return (OutboxEntry.kind == kind) & (OutboxEntry.batch_id.is_(None))
