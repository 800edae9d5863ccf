"""The access log (查询使用登记): one hash-chained entry per release of plaintext.

An entry is written, and committed with its outbox entry, before the plaintext leaves
the gateway: a release that cannot be logged does not happen. Entries are anchored in
ACCESS_LOG batches by the anchoring worker; `entry_document` gives an entry with its
batch proof in the `credit-ledger/access-log@1` format that auditors verify against the
chain alone (chain_client.verify_access_log_entry).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chain_client import ACCESS_LOG_FORMAT, NO_CONSENT, AccessLogLeaf, Stack, access_log_tree, checksummed, purpose_hash
from gateway.infra.errors import GatewayError, UnavailableError
from gateway.infra.storage import AccessLogEntry, AnchorBatch, BatchState, OutboxEntry, OutboxKind
from gateway.infra.storage.leaves import leaf_of_entry

ZERO32 = bytes(32)
_APPEND_ATTEMPTS = 20


def append_entry(
    engine: Engine, *, requester: str, record_id: bytes, purpose: str, consent_id: bytes | None, now: int
) -> AccessLogLeaf:
    """Append and commit one entry; concurrent writers retry on the next sequence number."""
    for _ in range(_APPEND_ATTEMPTS):
        try:
            with Session(engine) as session, session.begin():
                last = session.execute(
                    select(AccessLogEntry.sequence, AccessLogEntry.entry_hash)
                    .order_by(AccessLogEntry.sequence.desc())
                    .limit(1)
                ).first()
                leaf = AccessLogLeaf(
                    sequence=(last.sequence + 1) if last else 1,
                    prev_hash=last.entry_hash if last else ZERO32,
                    requester=checksummed(requester),
                    record_id=record_id,
                    purpose_hash=purpose_hash(purpose),
                    consent_id=consent_id or NO_CONSENT,
                    released_at=now,
                )
                entry_hash = leaf.entry_hash()
                session.add(
                    AccessLogEntry(
                        sequence=leaf.sequence,
                        entry_hash=entry_hash,
                        prev_hash=leaf.prev_hash,
                        requester=leaf.requester,
                        record_id=record_id,
                        purpose=purpose,
                        consent_id=leaf.consent_id,
                        released_at=now,
                    )
                )
                session.add(OutboxEntry(kind=OutboxKind.ACCESS_LOG, ref=entry_hash))
            return leaf
        except IntegrityError:
            continue  # another writer took this sequence number: read the new tail
    raise UnavailableError("ACCESS_LOG_BUSY", "the access log could not be appended to; nothing was released")


class AccessLogIntegrityError(GatewayError):
    """Stored access-log entries were altered after their batch was anchored."""


def entry_documents(session: Session, stack: Stack, rows: list[AccessLogEntry]) -> list[dict[str, Any]]:
    """Entries in the access-log@1 format, each with its batch proof once anchored."""
    trees: dict[int, Any] = {}
    documents = []
    for row in rows:
        leaf = leaf_of_entry(row)
        batch_json = None
        if row.batch_id is not None and row.leaf_index is not None:
            batch = session.get_one(AnchorBatch, row.batch_id)
            if batch.state == BatchState.ANCHORED:
                if row.batch_id not in trees:
                    members = session.scalars(
                        select(AccessLogEntry)
                        .where(AccessLogEntry.batch_id == row.batch_id)
                        .order_by(AccessLogEntry.leaf_index)
                    )
                    trees[row.batch_id] = access_log_tree([leaf_of_entry(m) for m in members])
                tree = trees[row.batch_id]
                if tree.root != batch.root:
                    raise AccessLogIntegrityError(
                        "ACCESS_LOG_INTEGRITY_FAILED",
                        "the stored access log no longer gives its anchored root; it is not served",
                        detail={"batch": batch.id},
                    )
                assert batch.tx_hash is not None
                batch_json = {
                    "root": _hex(tree.root),
                    "proof": [_hex(p) for p in tree.proof(row.leaf_index)],
                    "txHash": _hex(batch.tx_hash),
                    "blockNumber": batch.block_number,
                    "anchoredAt": batch.anchored_at,
                }
        documents.append(
            {
                "format": ACCESS_LOG_FORMAT,
                "chain": {"chainId": stack.chain.chain_id, "ledger": stack.ledger.address},
                "entry": {
                    "sequence": row.sequence,
                    "prevHash": _hex(row.prev_hash),
                    "requester": leaf.requester,
                    "recordId": _hex(row.record_id),
                    "purpose": row.purpose,
                    "purposeHash": _hex(leaf.purpose_hash),
                    "consentId": _hex(row.consent_id),
                    "releasedAt": row.released_at,
                    "entryHash": _hex(row.entry_hash),
                },
                "batch": batch_json,
            }
        )
    return documents


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
