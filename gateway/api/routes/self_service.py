"""A subject signed in with its own key (X-CL-Subject-Credential): its records, who read them, its consents,
and its own objections and repair requests, which this gateway files on chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.api.deps import GatewayDep, SessionDep
from gateway.api.schemas import (
    MAX_SQL_INTEGER,
    ConsentIn,
    ConsentList,
    ConsentOut,
    ErrorBody,
    SelfAccessLog,
    SelfRecords,
    SubjectObjectionIn,
    SubjectRepairIn,
    WithdrawalIn,
)
from gateway.api.subject_auth import CurrentSubject, SubjectRoute
from gateway.infra.errors import NotFoundError
from gateway.lifecycle import record_steps as lifecycle
from gateway.records.consents import consents_of, register_consent, withdraw_consent
from gateway.records.self_service import own_access_log, own_records

router = APIRouter(prefix="/v1/self", tags=["self"], route_class=SubjectRoute)
_REFUSALS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}}


@router.get("/records", response_model=SelfRecords, responses=_REFUSALS)
def read_own_records(
    gateway: GatewayDep,
    session: SessionDep,
    subject: CurrentSubject,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> Any:
    """The subject's own records in full, every class (自查); each release is logged.

    A record that fails its integrity check is listed in `integrityFailures` (recordId and
    catalog code only) and never served; the others still are."""
    views, failed = own_records(gateway, session, subject, limit=limit, offset=offset)
    return {
        "subjectRef": "0x" + subject.subject_ref.hex(),
        "asOfBlock": gateway.index.position.block,
        "records": views,
        "integrityFailures": failed,
    }


@router.get("/access-log", response_model=SelfAccessLog, responses=_REFUSALS)
def read_own_access_log(
    gateway: GatewayDep,
    session: SessionDep,
    subject: CurrentSubject,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Who read the subject's records, when, and for which purpose (newest first)."""
    entries = own_access_log(gateway, session, subject, limit=limit)
    return {"subjectRef": "0x" + subject.subject_ref.hex(), "entries": entries}


@router.get("/consents", response_model=ConsentList, responses=_REFUSALS)
def read_own_consents(session: SessionDep, subject: CurrentSubject) -> Any:
    """The subject's consents, newest first, withdrawn ones included."""
    return {"consents": [ConsentOut.of(c) for c in consents_of(session, subject.subject_ref)]}


@router.post(
    "/consents",
    response_model=ConsentOut,
    status_code=201,
    responses={**_REFUSALS, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def create_own_consent(body: ConsentIn, gateway: GatewayDep, session: SessionDep, subject: CurrentSubject) -> Any:
    """Register a consent the subject signed, submitted by the subject itself."""
    consent = register_consent(gateway, session, body.signed(), submitted_by=subject.key, now=gateway.now())
    session.commit()
    return ConsentOut.of(consent)


@router.post(
    "/consents/{consent_id}/withdrawal",
    response_model=ConsentOut,
    responses={**_REFUSALS, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def withdraw_own_consent(
    consent_id: str, body: WithdrawalIn, gateway: GatewayDep, session: SessionDep, subject: CurrentSubject
) -> Any:
    """Withdraw one of the subject's consents with its signed WithdrawConsent; reads resting on it stop."""
    try:
        key = bytes.fromhex(consent_id.removeprefix("0x"))
    except ValueError:
        raise NotFoundError("CONSENT_NOT_FOUND", "no consent with this id") from None
    signature = bytes.fromhex(body.signature[2:])
    consent = withdraw_consent(gateway, session, key, signature, subject=subject, now=gateway.now())
    session.commit()
    return ConsentOut.of(consent)


_FILING_ERRORS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    **{status: {"model": ErrorBody} for status in (404, 409, 422, 503)},
}


@router.post("/records/{record_id}/objections", response_model=dict[str, Any], responses=_FILING_ERRORS)
def file_own_objection(
    record_id: str, body: SubjectObjectionIn, gateway: GatewayDep, session: SessionDep, subject: CurrentSubject
) -> Any:
    """The subject files its own signed objection on one of its records here: the record becomes Disputed.
    The gateway files it on chain (fileSubjectObjection; SubjectFiling carries the signed digest)."""
    return lifecycle.file_subject_objection(
        gateway, session, subject, record_id, _hex(body.reasonHash), _hex(body.nonce), _hex(body.signature)
    )


@router.post("/records/{record_id}/repairs", response_model=dict[str, Any], responses=_FILING_ERRORS)
def request_own_repair(
    record_id: str, body: SubjectRepairIn, gateway: GatewayDep, session: SessionDep, subject: CurrentSubject
) -> Any:
    """The subject requests credit repair of one of its records itself, with its signed SubjectRepairRequest."""
    return lifecycle.request_subject_repair(
        gateway,
        session,
        subject,
        record_id,
        body.evidenceKind,
        _hex(body.documentsHash),
        _hex(body.nonce),
        _hex(body.signature),
    )


def _hex(value: str) -> bytes:
    return bytes.fromhex(value[2:])
