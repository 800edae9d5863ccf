"""A subject's records, by unified social credit code or resident id number."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from chain_client import Role
from gateway.api.deps import CurrentMember, GatewayDep, Purpose, ScopeQuery, SessionDep, require_role
from gateway.api.schemas import MAX_SQL_INTEGER, ErrorBody, SubjectRecords
from gateway.api.signed import SignedRoute
from gateway.infra.errors import AuthError, InputError
from gateway.infra.service import Gateway
from gateway.infra.subject_ids import SubjectId, SubjectIdError, parse_subject
from gateway.records.entitlement import Requester
from gateway.records.lookups import register_lookup
from gateway.records.reads import RecordIntegrityError, rows_of_subject
from gateway.records.releases import integrity_failure, record_view, states_of
from gateway.standing.combined import measures_answer
from gateway.standing.measures import basis_proofs
from gateway.standing.report_html import render_report_html
from gateway.standing.reports import credit_report

router = APIRouter(prefix="/v1/subjects", tags=["subjects"], route_class=SignedRoute)


@router.get("/{subject}/records", response_model=SubjectRecords, responses={422: {"model": ErrorBody}})
def read_subject_records(
    subject: str,
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    purpose: Purpose = "unspecified",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> Any:
    """The subject's records this member may see, each as `GET /v1/records/{id}` gives it.

    Records the member is not entitled to (class B without consent, class C without the
    role, class A outside publicity) are left out, not reported. A record the member is
    entitled to that fails its integrity check is listed in `integrityFailures` (recordId
    and catalog code only) and never served; the others still are.
    """
    subject_ref = _registered(gateway, member, subject, "records", purpose)
    views = []
    failed = []
    rows = rows_of_subject(session, subject_ref, limit=limit, offset=offset)
    states = states_of(gateway, session, rows)
    for row in rows:
        try:
            views.append(record_view(gateway, session, member, row, purpose, states[row.record_id]))
        except AuthError:
            continue
        except RecordIntegrityError:
            failed.append(integrity_failure(gateway, row))
    return {
        "subjectRef": "0x" + subject_ref.hex(),
        "asOfBlock": gateway.index.position.block,
        "records": views,
        "integrityFailures": failed,
    }


@router.get("/{subject}/measures", response_model=dict[str, Any], responses={422: {"model": ErrorBody}})
def read_subject_measures(
    subject: str, gateway: GatewayDep, session: SessionDep, member: CurrentMember, scope: ScopeQuery = "consortium"
) -> Any:
    """Which red and black lists the subject is on now and which joint measures apply.

    Booleans and measure codes only, never record contents, signed by the gateway
    (`credit-ledger/measures@2`: EIP-191 signature over keccak256 of the RFC 8785 answer).
    For the consortium (default) the other regions' gateways are asked for their signed
    parts: the lists and measures are the union, `regions` names each region and whether
    it answered, `parts` carries their signatures. `scope=region`: this gateway only.
    """
    subject_ref = _registered(gateway, member, subject, "measures", "joint measures")
    return measures_answer(gateway, session, subject_ref, member, scope)[0]


@router.get("/{subject}/measures/proofs", response_model=dict[str, Any], responses={403: {"model": ErrorBody}})
def read_subject_measure_proofs(
    subject: str, gateway: GatewayDep, session: SessionDep, member: CurrentMember, scope: ScopeQuery = "consortium"
) -> Any:
    """For AUDITORs: the signed answer and the proof bundles of this gateway's records behind it."""
    require_role(member, Role.AUDITOR)
    subject_ref = _registered(gateway, member, subject, "measure-proofs", "joint measures")
    answer, standing = measures_answer(gateway, session, subject_ref, member, scope)
    return {**answer, "proofs": [bundle.to_json() for bundle in basis_proofs(gateway, session, standing)]}


@router.get(
    "/{subject}/report",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/html": {}}}, 422: {"model": ErrorBody}},
)
def read_subject_report(
    subject: str,
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    purpose: Purpose = "credit-report",
    format: Annotated[Literal["json", "html"], Query(description="json, or a readable HTML page")] = "json",
) -> Any:
    """A signed credit report (`credit-ledger/report@1`) of the subject's records in force
    that this member may see, each with its proof bundle; `credit-ledger verify-report`
    checks it anywhere. The HTML page embeds the same signed JSON."""
    parsed = _parsed(subject)
    _register(gateway, member, parsed, "report", purpose)
    document = credit_report(gateway, session, member, parsed, purpose)
    if format == "html":
        return HTMLResponse(render_report_html(document))
    return JSONResponse(document)


def _registered(gateway: Gateway, member: Requester, subject: str, kind: str, purpose: str) -> bytes:
    """The subject's subjectRef, the member's query about it registered first."""
    return _register(gateway, member, _parsed(subject), kind, purpose)


def _register(gateway: Gateway, member: Requester, subject: SubjectId, kind: str, purpose: str) -> bytes:
    subject_ref = gateway.subject_ref(subject)
    register_lookup(  # the read's nonce is recorded in the same commit
        gateway.group_engine,
        gateway.lookup_group,
        requester=member.address,
        subject_ref=subject_ref,
        kind=kind,
        purpose=purpose,
        now=gateway.now(),
        nonce=member.nonce,
    )
    return subject_ref


def _parsed(subject: str) -> SubjectId:
    try:
        return parse_subject(subject)
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc), detail=exc.detail) from None
