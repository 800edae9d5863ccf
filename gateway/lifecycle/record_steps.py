"""The record lifecycle through the gateway: objections (异议), corrections, revocations and
credit repair (信用修复), each a relayed instruction recorded on chain.

The chain is the record of every state change: the gateway keeps no lifecycle state of
its own and reads a record's status from the ledger, so a provider acting on chain
directly is seen the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.types import TxReceipt

from chain_client import (
    RecordProof,
    Role,
    SubjectFiling,
    approve_repair_struct_hash,
    file_objection_struct_hash,
    recover_signer,
    reject_repair_struct_hash,
    request_repair_struct_hash,
    resolve_objection_struct_hash,
    revoke_struct_hash,
)
from gateway.infra.errors import AuthError, ConflictError, NotFoundError
from gateway.infra.service import Gateway
from gateway.infra.storage import StoredRecord
from gateway.infra.storage import SubjectFiling as FilingRow
from gateway.lifecycle.relaying import SignedInstruction, check_instruction, relay
from gateway.lifecycle.terms import OUTCOMES, EvidenceKind, Resolution, repair_evidence_hash
from gateway.records.entitlement import Requester
from gateway.records.reads import DAY_S, anchored_batch, find_record, proof_bundle
from gateway.records.subjects import BoundSubject, subject_domain


def record_proof(gw: Gateway, session: Session, row: StoredRecord) -> RecordProof:
    """The record's leaf and Merkle proof for a lifecycle call; 409 until it is anchored.

    The batch is this gateway's: its worker anchors with the gateway's account and adopts
    no other gateway's anchoring, and the ledger keys batches by (gateway, root).
    """
    bundle = proof_bundle(session, gw.stack, row, gw.trees)
    return RecordProof(leaf=bundle.leaf, gateway=gw.account.address, root=bundle.batch.root, proof=bundle.batch.proof)


def file_objection(
    gw: Gateway, session: Session, member: Requester, record_id: str, reason_hash: bytes, signed: SignedInstruction
) -> dict[str, Any]:
    """A PROVIDER member files an objection on the subject's behalf: the record becomes (or stays) Disputed.

    Objections accumulate, so no one's objection refuses another's.
    """
    _require_department(member)
    row = find_record(session, record_id)
    proof = record_proof(gw, session, row)
    instruction = check_instruction(
        gw, member, signed, gw.stack.ledger, lambda n, d: file_objection_struct_hash(row.record_id, reason_hash, n, d)
    )
    tx = relay(gw, lambda: gw.stack.ledger.relay_file_objection(gw.account, proof, reason_hash, instruction))
    return _result(gw, row, "objection-filed", tx)


def resolve_objection(
    gw: Gateway,
    session: Session,
    member: Requester,
    record_id: str,
    resolution: Resolution,
    correction_id: str | None,
    signed: SignedInstruction,
) -> dict[str, Any]:
    """The provider resolves an objection: rejected, revoked, or corrected by a newer record."""
    row = _own_record(session, member, record_id)
    proof = record_proof(gw, session, row)
    correction: RecordProof | None = None
    if resolution == Resolution.CORRECTED:
        if correction_id is None:
            raise ConflictError("CORRECTION_MISSING", "a correction outcome names the correcting record")
        correction = record_proof(gw, session, find_record(session, correction_id))
    elif correction_id is not None:
        raise ConflictError("CORRECTION_UNEXPECTED", "only a correction outcome names a correcting record")
    outcome = OUTCOMES[resolution]
    correction_leaf_id = correction.leaf.record_id if correction else bytes(32)
    instruction = check_instruction(
        gw,
        member,
        signed,
        gw.stack.ledger,
        lambda n, d: resolve_objection_struct_hash(row.record_id, int(outcome), correction_leaf_id, n, d),
    )
    tx = relay(
        gw,
        lambda: gw.stack.ledger.relay_resolve_objection(gw.account, proof, outcome, instruction, correction=correction),
    )
    return _result(gw, row, f"objection-{resolution.value}", tx)


def revoke(
    gw: Gateway, session: Session, member: Requester, record_id: str, reason_hash: bytes, signed: SignedInstruction
) -> dict[str, Any]:
    """The provider revokes its record (撤销)."""
    row = _own_record(session, member, record_id)
    proof = record_proof(gw, session, row)
    instruction = check_instruction(
        gw, member, signed, gw.stack.ledger, lambda n, d: revoke_struct_hash(row.record_id, reason_hash, n, d)
    )
    tx = relay(gw, lambda: gw.stack.ledger.relay_revoke(gw.account, proof, reason_hash, instruction))
    return _result(gw, row, "revoked", tx)


def request_repair(
    gw: Gateway,
    session: Session,
    member: Requester,
    record_id: str,
    kind: EvidenceKind,
    documents_hash: bytes,
    signed: SignedInstruction,
) -> dict[str, Any]:
    """A PROVIDER member requests credit repair on the subject's behalf, with the evidence's kind and hash.

    Requests accumulate, so a pending one never refuses another; the provider's approval
    or rejection answers them all.
    """
    _require_department(member)
    row = find_record(session, record_id)
    proof = record_proof(gw, session, row)
    evidence_hash = repair_evidence_hash(kind, documents_hash)
    instruction = check_instruction(
        gw, member, signed, gw.stack.ledger, lambda n, d: request_repair_struct_hash(row.record_id, evidence_hash, n, d)
    )
    tx = relay(gw, lambda: gw.stack.ledger.relay_request_repair(gw.account, proof, evidence_hash, instruction))
    result = _result(gw, row, "repair-requested", tx)
    result["evidenceHash"] = "0x" + evidence_hash.hex()
    return result


def approve_repair(
    gw: Gateway, session: Session, member: Requester, record_id: str, signed: SignedInstruction
) -> dict[str, Any]:
    """The provider approves a repair: the record leaves publicity and list checks at once."""
    row = _own_record(session, member, record_id)
    proof = record_proof(gw, session, row)
    if not gw.stack.ledger.state(row.record_id).repair_pending:
        raise ConflictError("REPAIR_NOT_REQUESTED", "no repair request is pending")
    earliest = repair_earliest(gw, session, row)
    if gw.now() < earliest:
        raise ConflictError(
            "REPAIR_TOO_EARLY",
            "the catalog's minimum days before repair have not passed",
            detail={"earliest": earliest},
        )
    instruction = check_instruction(
        gw, member, signed, gw.stack.ledger, lambda n, d: approve_repair_struct_hash(row.record_id, n, d)
    )
    tx = relay(gw, lambda: gw.stack.ledger.relay_approve_repair(gw.account, proof, instruction))
    return _result(gw, row, "repaired", tx)


def reject_repair(
    gw: Gateway, session: Session, member: Requester, record_id: str, reason_hash: bytes, signed: SignedInstruction
) -> dict[str, Any]:
    """The provider rejects the pending repair requests, all of them."""
    row = _own_record(session, member, record_id)
    proof = record_proof(gw, session, row)
    instruction = check_instruction(
        gw, member, signed, gw.stack.ledger, lambda n, d: reject_repair_struct_hash(row.record_id, reason_hash, n, d)
    )
    tx = relay(gw, lambda: gw.stack.ledger.relay_reject_repair(gw.account, proof, reason_hash, instruction))
    return _result(gw, row, "repair-rejected", tx)


def file_subject_objection(
    gw: Gateway,
    session: Session,
    subject: BoundSubject,
    record_id: str,
    reason_hash: bytes,
    nonce: bytes,
    signature: bytes,
) -> dict[str, Any]:
    """A subject signed in with its key files its own signed objection (SubjectObjection) on its record.

    This gateway, which anchored the record's batch, files it (fileSubjectObjection) with the
    signed digest as subjectEvidence, and keeps the signed document for auditors.
    """
    row = _subject_record(session, subject, record_id)
    filing = SubjectFiling(False, row.record_id, reason_hash, subject.credential_hash, nonce)
    return _file_for_subject(
        gw,
        session,
        subject,
        row,
        filing,
        signature,
        "objection-filed",
        lambda proof, digest: gw.stack.ledger.file_subject_objection(gw.account, proof, reason_hash, digest),
    )


def request_subject_repair(
    gw: Gateway,
    session: Session,
    subject: BoundSubject,
    record_id: str,
    kind: EvidenceKind,
    documents_hash: bytes,
    nonce: bytes,
    signature: bytes,
) -> dict[str, Any]:
    """A subject signed in with its key files its own signed repair request (SubjectRepairRequest).

    The subject signs the evidenceHash the ledger takes (the kind and the documents' hash).
    """
    row = _subject_record(session, subject, record_id)
    evidence_hash = repair_evidence_hash(kind, documents_hash)
    filing = SubjectFiling(True, row.record_id, evidence_hash, subject.credential_hash, nonce)
    result = _file_for_subject(
        gw,
        session,
        subject,
        row,
        filing,
        signature,
        "repair-requested",
        lambda proof, digest: gw.stack.ledger.request_subject_repair(gw.account, proof, evidence_hash, digest),
        evidence_kind=kind.value,
        documents_hash=documents_hash,
    )
    result["evidenceHash"] = "0x" + evidence_hash.hex()
    return result


def _subject_record(session: Session, subject: BoundSubject, record_id: str) -> StoredRecord:
    row = find_record(session, record_id)
    # Another subject's record answers as no record: a subject learns nothing of others'.
    if row.subject_ref != subject.subject_ref:
        raise NotFoundError("RECORD_NOT_FOUND", "this gateway holds no record with this id")
    return row


def _file_for_subject(
    gw: Gateway,
    session: Session,
    subject: BoundSubject,
    row: StoredRecord,
    filing: SubjectFiling,
    signature: bytes,
    action: str,
    send: Callable[[RecordProof, bytes], TxReceipt],
    *,
    evidence_kind: str | None = None,
    documents_hash: bytes | None = None,
) -> dict[str, Any]:
    digest = filing.digest(subject_domain(gw))
    if recover_signer(digest, signature) != subject.key:
        raise AuthError(
            "SUBJECT_FILING_SIGNATURE_INVALID",
            "the filing is not signed over these fields by the key the subject's credential binds",
        )
    proof = record_proof(gw, session, row)
    stored = FilingRow(
        filing_id=digest,
        kind="repair" if filing.repair else "objection",
        record_id=row.record_id,
        subject_ref=subject.subject_ref,
        filed_hash=filing.hash,
        evidence_kind=evidence_kind,
        documents_hash=documents_hash,
        credential_hash=subject.credential_hash,
        subject_key=subject.key,
        nonce=filing.nonce,
        signature=signature,
        filed_at=gw.now(),
    )
    # The nonce is taken (committed) before the transaction, so two concurrent submissions
    # of one signed filing put it on chain once; a refused transaction frees it again.
    session.add(stored)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError("SUBJECT_FILING_REPLAYED", "the subject used this filing's nonce before") from None
    try:
        tx = relay(gw, lambda: send(proof, digest))
    except Exception:
        session.delete(stored)
        session.commit()
        raise
    stored.tx_hash = bytes.fromhex(tx["txHash"][2:])
    session.commit()
    result = _result(gw, row, action, tx)
    result["subjectEvidence"] = "0x" + digest.hex()
    return result


def repair_earliest(gw: Gateway, session: Session, row: StoredRecord) -> int:
    """When the provider may first approve a repair: anchoring plus the catalog's minimum days."""
    batch = anchored_batch(session, row)
    assert batch is not None
    assert batch.anchored_at is not None
    entry = gw.view.entry_at(row.catalog_id, row.catalog_version)
    return batch.anchored_at + entry.min_days_before_repair * DAY_S


def _require_department(member: Requester) -> None:
    # The chain refuses other roles too (LedgerNotProviderMember); this answers before
    # any proof is built or gas spent, and says the same for a record that does not exist.
    if Role.PROVIDER not in member.roles:
        raise AuthError("LIFECYCLE_PROVIDER_REQUIRED", "objections and repair requests are filed by PROVIDER members")


def _own_record(session: Session, member: Requester, record_id: str) -> StoredRecord:
    row = find_record(session, record_id)
    if row.provider != member.address:
        raise AuthError("LIFECYCLE_NOT_PROVIDER", "only the record's provider may do this")
    return row


def _result(gw: Gateway, row: StoredRecord, action: str, tx: dict[str, Any]) -> dict[str, Any]:
    with gw.engine.connect() as connection:  # the index, which relay() brought to the receipt's block
        state = gw.index.record_state(connection, row.record_id)
    return {
        "recordId": "0x" + row.record_id.hex(),
        "action": action,
        "status": state.status.name,
        "repairPending": state.repair_pending,
        "supersededBy": "0x" + state.superseded_by.hex() if state.superseded_by else None,
        **tx,
    }
