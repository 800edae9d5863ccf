"""The leaf encoding of stored rows: a record row's RecordLeaf, an access-log row's leaf, and batch trees.

The anchoring worker builds batches from these leaves, and the read path, the access log
and the integrity audit rebuild them from the same rows, so the encoding lives once, with
the storage it reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import AccessLogLeaf, RecordLeaf, StandardMerkleTree, checksummed, purpose_hash, record_tree
from gateway.infra.errors import FixedCodeError
from gateway.infra.storage.models import AccessLogEntry, AnchorBatch, StoredRecord

LEAF_COLUMNS = (  # the stored record's RecordLeaf fields, in RecordLeaf's order
    StoredRecord.record_id,
    StoredRecord.catalog_id,
    StoredRecord.catalog_version,
    StoredRecord.subject_tag,
    StoredRecord.content_hash,
    StoredRecord.provider,
    StoredRecord.issued_at,
    StoredRecord.supersedes,
)


def leaf_of(row: StoredRecord) -> RecordLeaf:
    """The record leaf a stored row describes."""
    return RecordLeaf(
        record_id=row.record_id,
        catalog_id=row.catalog_id,
        catalog_version=row.catalog_version,
        subject_tag=row.subject_tag,
        content_hash=row.content_hash,
        provider=row.provider,  # type: ignore[arg-type]
        issued_at=row.issued_at,
        supersedes=row.supersedes,
    )


def leaf_of_entry(row: AccessLogEntry) -> AccessLogLeaf:
    """The leaf a stored access-log entry describes."""
    return AccessLogLeaf(
        sequence=row.sequence,
        prev_hash=row.prev_hash,
        requester=checksummed(row.requester),
        record_id=row.record_id,
        purpose_hash=purpose_hash(row.purpose),
        consent_id=row.consent_id,
        released_at=row.released_at,
    )


def batch_tree(session: Session, batch_id: int) -> tuple[StandardMerkleTree, list[StoredRecord]]:
    """The tree of an anchored batch, rebuilt from its records in leaf order."""
    rows = list(
        session.scalars(select(StoredRecord).where(StoredRecord.batch_id == batch_id).order_by(StoredRecord.leaf_index))
    )
    return record_tree([leaf_of(r) for r in rows]), rows


class BatchRootMismatchError(FixedCodeError):
    """A batch's stored rows no longer give its anchored root."""

    code = "RECORD_INTEGRITY_FAILED"


class BatchTrees:
    """Trees of anchored batches, each rebuilt from its rows once and kept (most recent first).

    Every proof of a batch needs the whole tree; rebuilding it per request reads every
    row of the batch (up to its size, thousands) for one proof. An anchored root never
    changes, so a tree is kept by root; a row is still checked against its leaf.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._trees: OrderedDict[bytes, StandardMerkleTree] = OrderedDict()
        self._lock = threading.Lock()

    def tree(self, session: Session, batch: AnchorBatch) -> StandardMerkleTree:
        """The batch's tree; BatchRootMismatchError when its rows no longer give its root."""
        with self._lock:
            cached = self._trees.get(batch.root)
            if cached is not None:
                self._trees.move_to_end(batch.root)
                return cached
        tree, _ = batch_tree(session, batch.id)
        if tree.root != batch.root:
            raise BatchRootMismatchError("the batch's stored records no longer give its anchored root")
        with self._lock:
            self._trees[batch.root] = tree
            while len(self._trees) > self._size:
                self._trees.popitem(last=False)
        return tree
