"""The access log (查询使用登记): one hash-chained entry per release of plaintext.

An entry is written, and committed with its outbox entry, before the plaintext leaves
the gateway: a release that cannot be logged does not happen. Entries are anchored in
ACCESS_LOG batches by the anchoring worker; `entry_document` gives an entry with its
batch proof in the `credit-ledger/access-log@1` format that auditors verify against the
chain alone (chain_client.verify_access_log_entry).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from chain_client import ACCESS_LOG_FORMAT, NO_CONSENT, AccessLogLeaf, Stack, access_log_tree, checksummed, purpose_hash
from gateway.infra.errors import GatewayError, UnavailableError
from gateway.infra.group_commit import GroupCommit
from gateway.infra.nonces import NoncedMember, PendingNonce, commit_nonced_group
from gateway.infra.storage import AccessLogEntry, AnchorBatch, BatchState, OutboxEntry, OutboxKind
from gateway.infra.storage.leaves import leaf_of_entry

ZERO32 = bytes(32)
# pg advisory lock keys are bigints; this one is "credit-ledger access log". Held for the
# group's transaction: the groups of several processes append one after the other.
ACCESS_LOG_LOCK_KEY = 0x63_6C_61_63_63_6C_6F_67  # b"claccolg"


class Append(NoncedMember):
    """One release's entry waiting in a group, with its request's nonce when still unused."""

    def __init__(
        self,
        *,
        requester: str,
        record_id: bytes,
        purpose: str,
        consent_id: bytes | None,
        now: int,
        nonce: PendingNonce | None,
    ) -> None:
        super().__init__(nonce)
        self.requester = checksummed(requester)
        self.record_id = record_id
        self.purpose = purpose
        self.consent_id = consent_id or NO_CONSENT
        self.now = now
        self.leaf: AccessLogLeaf | None = None


def append_entry(
    engine: Engine,
    group: GroupCommit[Any],
    *,
    requester: str,
    record_id: bytes,
    purpose: str,
    consent_id: bytes | None,
    now: int,
    nonce: PendingNonce | None = None,
) -> AccessLogLeaf:
    """Append and commit one entry, in one transaction with the entries of concurrent requests.

    With `nonce` (a read's nonce checked but not yet recorded) the nonce row is inserted in
    the same transaction; a nonce another request used meanwhile refuses this entry alone
    (AUTH_REPLAYED), not the rest of the group.
    """
    member = Append(
        requester=requester, record_id=record_id, purpose=purpose, consent_id=consent_id, now=now, nonce=nonce
    )
    group.run(member, lambda members: commit_group(engine, members))
    assert member.leaf is not None
    return member.leaf


def commit_group(engine: Engine, members: list[Append]) -> None:
    """Commit a group of appends in one transaction, settling each (a replayed nonce refuses its member alone)."""
    commit_nonced_group(
        engine,
        members,
        _append_entries,
        UnavailableError("ACCESS_LOG_BUSY", "the access log could not be appended to; nothing was released"),
    )


def _append_entries(session: Session, kept: list[Append]) -> None:
    """The group's entries, chained after the tail (another process's group first, on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ACCESS_LOG_LOCK_KEY})
    last = session.execute(
        select(AccessLogEntry.sequence, AccessLogEntry.entry_hash).order_by(AccessLogEntry.sequence.desc()).limit(1)
    ).first()
    sequence, prev_hash = (last.sequence, last.entry_hash) if last else (0, ZERO32)
    for member in kept:
        sequence += 1
        leaf = AccessLogLeaf(
            sequence=sequence,
            prev_hash=prev_hash,
            requester=member.requester,
            record_id=member.record_id,
            purpose_hash=purpose_hash(member.purpose),
            consent_id=member.consent_id,
            released_at=member.now,
        )
        prev_hash = leaf.entry_hash()
        session.add(
            AccessLogEntry(
                sequence=sequence,
                entry_hash=prev_hash,
                prev_hash=leaf.prev_hash,
                requester=leaf.requester,
                record_id=member.record_id,
                purpose=member.purpose,
                consent_id=leaf.consent_id,
                released_at=member.now,
            )
        )
        session.add(OutboxEntry(kind=OutboxKind.ACCESS_LOG, ref=prev_hash))
        member.leaf = leaf  # read only once the group is committed (a retry writes it again)


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
