"""The access log (查询使用登记) for auditors: entries with their anchoring proofs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from chain_client import Role, checksummed
from gateway.api.deps import CurrentMember, GatewayDep, SessionDep, require_role
from gateway.api.schemas import MAX_SQL_INTEGER, AccessLogPage, ErrorBody
from gateway.api.signed import SignedRoute
from gateway.infra.errors import InputError
from gateway.infra.storage import AccessLogEntry, SubjectFiling
from gateway.infra.subject_ids import SubjectIdError, parse_subject
from gateway.records.access_log import entry_documents
from gateway.records.lookups import lookups

router = APIRouter(prefix="/v1/access-log", tags=["access log"], route_class=SignedRoute)


@router.get("", response_model=AccessLogPage, responses={403: {"model": ErrorBody}})
def read_access_log(
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    record: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{64}$", description="Only this record.")] = None,
    requester: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="Only this member.")] = None,
    after: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER, description="Entries with a greater sequence number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Entries in sequence order, each in credit-ledger/access-log@1 with its batch proof once anchored."""
    require_role(member, Role.AUDITOR)
    query = select(AccessLogEntry).where(AccessLogEntry.sequence > after)
    if record is not None:
        query = query.where(AccessLogEntry.record_id == bytes.fromhex(record[2:]))
    if requester is not None:
        try:
            query = query.where(AccessLogEntry.requester == checksummed(requester))
        except ValueError:
            raise InputError("REQUEST_INVALID", "requester is not an address") from None
    rows = list(session.scalars(query.order_by(AccessLogEntry.sequence).limit(limit)))
    head = session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.sequence.desc()).limit(1)).first()
    return {
        "entries": entry_documents(session, gateway.stack, rows),
        "head": {"sequence": head.sequence, "entryHash": "0x" + head.entry_hash.hex()} if head else None,
    }


@router.get("/lookups", response_model=dict[str, Any], responses={403: {"model": ErrorBody}})
def read_lookups(
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    requester: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="Only this member.")] = None,
    subject: Annotated[str | None, Query(min_length=15, max_length=18, description="Only this subject id.")] = None,
    after: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER, description="Lookups with a greater id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Members' registered queries by subject id (records, measures, reports, subjectRefs), in order."""
    require_role(member, Role.AUDITOR)
    try:
        subject_ref = gateway.subject_ref(parse_subject(subject)) if subject is not None else None
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc), detail=exc.detail) from None
    who = checksummed(requester) if requester is not None else None
    return {"lookups": lookups(session, requester=who, subject_ref=subject_ref, after=after, limit=limit)}


@router.get("/subject-filings", response_model=dict[str, Any], responses={403: {"model": ErrorBody}})
def read_subject_filings(
    session: SessionDep,
    member: CurrentMember,
    record: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{64}$", description="Only this record.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Subjects' own signed objections and repair requests this gateway filed, oldest first: from each,
    the EIP-712 digest (the chain's SubjectFiling.subjectEvidence) is recomputed and its signer recovered."""
    require_role(member, Role.AUDITOR)
    query = select(SubjectFiling)
    if record is not None:
        query = query.where(SubjectFiling.record_id == bytes.fromhex(record[2:]))
    rows = session.scalars(query.order_by(SubjectFiling.filed_at, SubjectFiling.filing_id).limit(limit))
    return {"filings": [_filing_document(row) for row in rows]}


def _filing_document(row: SubjectFiling) -> dict[str, Any]:
    def hex_of(value: bytes | None) -> str | None:
        return None if value is None else "0x" + value.hex()

    repair = row.kind == "repair"
    return {
        "type": "SubjectRepairRequest" if repair else "SubjectObjection",
        "subjectEvidence": hex_of(row.filing_id),
        "recordId": hex_of(row.record_id),
        "subjectRef": hex_of(row.subject_ref),
        ("evidenceHash" if repair else "reasonHash"): hex_of(row.filed_hash),
        "evidenceKind": row.evidence_kind,
        "documentsHash": hex_of(row.documents_hash),
        "credential": hex_of(row.credential_hash),
        "nonce": hex_of(row.nonce),
        "subjectKey": row.subject_key,
        "signature": hex_of(row.signature),
        "txHash": hex_of(row.tx_hash),
        "filedAt": row.filed_at,
    }
