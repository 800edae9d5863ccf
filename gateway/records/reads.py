"""Reading stored records back: open and check the sealed content, build proofs and views.

Opening a record checks more than the AES-GCM tags: the decrypted payload and seed must
give the row's contentHash, and the row's fields must give its recordId, so a row whose
hash, subject or provider was altered in the database is reported, never served.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import (
    BatchRef,
    CatalogEntry,
    ContentCommitment,
    DisclosureClass,
    ProofBundle,
    RecordState,
    RecordStatus,
    Stack,
    SubjectOpening,
    chain_ref,
)
from gateway.infra.envelope import Keyring, PayloadIntegrityError, SealedPayload, UnknownKeyError, open_sealed
from gateway.infra.errors import ConflictError, GatewayError, InputError, NotFoundError
from gateway.infra.storage import AnchorBatch, BatchState, StoredRecord
from gateway.infra.storage.leaves import BatchRootMismatchError, BatchTrees, leaf_of

DAY_S = 86_400
PUBLIC_STATUSES = frozenset({RecordStatus.ACTIVE, RecordStatus.DISPUTED})


class RecordIntegrityError(GatewayError):
    """A stored row does not match itself: altered ciphertext, key, hash or fields."""


@dataclass(frozen=True)
class OpenedRecord:
    """A record's decrypted content, checked against its row."""

    subject: str
    payload: dict[str, Any]
    record_seed: bytes
    commitment: ContentCommitment


def find_record(session: Session, record_id_hex: str) -> StoredRecord:
    """The stored row of a record id given as 0x-hex; 404 RECORD_NOT_FOUND otherwise."""
    try:
        if not record_id_hex.startswith("0x") or len(record_id_hex) != 66:
            raise ValueError
        record_id = bytes.fromhex(record_id_hex[2:])
    except ValueError:
        raise InputError("RECORD_ID_MALFORMED", "a record id is 0x and 32 bytes of hex") from None
    row = session.get(StoredRecord, record_id)
    if row is None:
        raise NotFoundError("RECORD_NOT_FOUND", "this gateway holds no record with this id")
    return row


def open_record(keyring: Keyring, row: StoredRecord) -> OpenedRecord:
    """Decrypt and check a row; RecordIntegrityError when anything was altered or moved."""
    if leaf_of(row).computed_record_id() != row.record_id:
        raise _integrity("the row's fields do not give its recordId")
    if subject_opening(row).tag() != row.subject_tag:  # subject_ref, which lookups go by, is not in the leaf
        raise _integrity("the row's subjectRef and subjectSalt do not give its subjectTag")
    sealed = SealedPayload(row.ciphertext, row.nonce, row.wrapped_key, row.key_nonce, row.kek_id)
    try:
        content = json.loads(open_sealed(keyring, row.record_id, sealed))
    except PayloadIntegrityError as exc:
        raise _integrity(str(exc)) from None
    except UnknownKeyError:
        # A row naming a KEK the keyring lacks was moved or altered (rotation keeps old KEKs).
        raise _integrity("the row's data key is wrapped under a key-encryption key this gateway lacks") from None
    seed = bytes.fromhex(content["recordSeed"][2:])
    commitment = ContentCommitment(content["payload"], seed)
    if commitment.content_hash != row.content_hash:
        raise _integrity("the decrypted payload does not give the row's contentHash")
    return OpenedRecord(content["subject"], content["payload"], seed, commitment)


def _integrity(reason: str) -> RecordIntegrityError:
    return RecordIntegrityError(
        "RECORD_INTEGRITY_FAILED", "the stored record failed its integrity check and is not served", detail=reason
    )


def anchored_batch(session: Session, row: StoredRecord) -> AnchorBatch | None:
    """The row's batch once it is anchored, else None."""
    if row.batch_id is None:
        return None
    batch = checked_batch(session.get_one(AnchorBatch, row.batch_id))
    return batch if batch.state == BatchState.ANCHORED else None


def checked_batch(batch: AnchorBatch) -> AnchorBatch:
    """The batch, when its state agrees with what it records of its anchoring.

    The worker records the block and time exactly when a batch becomes ANCHORED; a batch
    that says otherwise was altered (a status set back by hand, say).
    """
    recorded = batch.block_number is not None or batch.anchored_at is not None
    complete = batch.block_number is not None and batch.anchored_at is not None and batch.tx_hash is not None
    if (batch.state == BatchState.ANCHORED and not complete) or (batch.state != BatchState.ANCHORED and recorded):
        raise _integrity(f"the batch is {batch.state.value} but records {'an' if recorded else 'no'} anchoring")
    return batch


def proof_bundle(session: Session, stack: Stack, row: StoredRecord, trees: BatchTrees | None = None) -> ProofBundle:
    """The record's proof bundle; 409 RECORD_NOT_ANCHORED until its batch is anchored."""
    batch = anchored_batch(session, row)
    if batch is None or row.leaf_index is None or row.batch_id is None:
        raise ConflictError("RECORD_NOT_ANCHORED", "the record is accepted but not anchored yet; retry shortly")
    try:
        tree = (trees or BatchTrees()).tree(session, batch)
    except BatchRootMismatchError:
        raise _integrity("the batch's stored records no longer give its anchored root") from None
    leaf = leaf_of(row)
    if tree.leaf(row.leaf_index) != leaf.leaf_hash():
        raise _integrity("the row's fields are not the leaf anchored at its place in the batch")
    assert batch.tx_hash is not None
    assert batch.block_number is not None
    assert batch.anchored_at is not None
    return ProofBundle(
        chain=chain_ref(stack),
        leaf=leaf,
        signature=row.signature,
        batch=BatchRef(
            batch.root, tuple(tree.proof(row.leaf_index)), batch.tx_hash, batch.block_number, batch.anchored_at
        ),
    )


def subject_opening(row: StoredRecord) -> SubjectOpening:
    """What the row's subjectTag hides, for whom the record's subject may be shown."""
    return SubjectOpening(row.subject_ref, row.subject_salt)


def public_until(entry: CatalogEntry, row: StoredRecord) -> int | None:
    """End of the A-class publicity window (issuedAt + publicityDays), None for B and C."""
    return publicity_end(entry, row.issued_at)


def publicity_end(entry: CatalogEntry, issued_at: int) -> int | None:
    """End of the A-class publicity window of a record issued then, None for B and C."""
    if entry.disclosure_class != DisclosureClass.A:
        return None
    return issued_at + entry.publicity_days * DAY_S


def publicly_visible(entry: CatalogEntry, row: StoredRecord, state: RecordState, now: int) -> bool:
    """A-class, within its publicity window, and not revoked, corrected or repaired."""
    until = public_until(entry, row)
    return until is not None and now < until and state.status in PUBLIC_STATUSES


def rows_of_subject(
    session: Session, subject_ref: bytes, *, limit: int | None = None, offset: int = 0
) -> list[StoredRecord]:
    """A subject's records, newest first (all of them without a limit)."""
    query = (
        select(StoredRecord)
        .where(StoredRecord.subject_ref == subject_ref)
        .order_by(StoredRecord.issued_at.desc(), StoredRecord.record_id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


SUBJECTS_PER_QUERY = 500  # bound parameters per IN (...), well under every database's limit


def rows_of_subjects(session: Session, subject_refs: Sequence[bytes]) -> dict[bytes, list[StoredRecord]]:
    """Many subjects' records at once, each subject's newest first as `rows_of_subject`
    gives them: one query per SUBJECTS_PER_QUERY subjects, not one per subject."""
    found: dict[bytes, list[StoredRecord]] = {}
    unique = list(dict.fromkeys(subject_refs))
    for start in range(0, len(unique), SUBJECTS_PER_QUERY):
        query = (
            select(StoredRecord)
            .where(StoredRecord.subject_ref.in_(unique[start : start + SUBJECTS_PER_QUERY]))
            .order_by(StoredRecord.issued_at.desc(), StoredRecord.record_id)
        )
        for row in session.scalars(query):
            found.setdefault(row.subject_ref, []).append(row)
    return found


def anchoring_json(session: Session, row: StoredRecord) -> dict[str, Any]:
    """Where the record stands on its way to the chain."""
    if row.batch_id is None:
        return {"state": "pending"}
    batch = checked_batch(session.get_one(AnchorBatch, row.batch_id))
    return {
        "state": batch.state.value,
        "root": "0x" + batch.root.hex(),
        "txHash": "0x" + batch.tx_hash.hex() if batch.tx_hash else None,
        "blockNumber": batch.block_number,
        "anchoredAt": batch.anchored_at,
    }
