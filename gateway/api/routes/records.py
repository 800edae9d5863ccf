"""Records: submission (single or bulk), reads by entitlement, proof bundles."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from chain_client import Role
from gateway.api.deps import CurrentMember, GatewayDep, Purpose, SessionDep, require_role
from gateway.api.schemas import ErrorBody, RecordView, SubmissionResponse
from gateway.api.signed import BodySize, SignedRoute, body_limit
from gateway.infra.errors import GatewayError, InputError, NotFoundError
from gateway.infra.service import Gateway
from gateway.records.checks import Outcome, RecordSubmission, SubmissionRules, accept_records
from gateway.records.entitlement import Requester
from gateway.records.peers import OriginalRequest, fetch_from_holder, held_elsewhere
from gateway.records.reads import find_record
from gateway.records.releases import proof_for, record_view

router = APIRouter(prefix="/v1/records", tags=["records"], route_class=SignedRoute)


_SUBMISSION_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/RecordSubmission"},
                    {
                        "type": "object",
                        "required": ["records"],
                        "properties": {
                            "records": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 10000,
                                "items": {"$ref": "#/components/schemas/RecordSubmission"},
                            }
                        },
                    },
                ]
            },
            "examples": {
                "single": {"value": RecordSubmission.model_json_schema()["examples"][0]},
                "bulk": {"value": {"records": RecordSubmission.model_json_schema()["examples"]}},
            },
        }
    },
}


@router.post(
    "",
    response_model=SubmissionResponse,
    openapi_extra={"requestBody": _SUBMISSION_BODY, **body_limit(BodySize.BULK)},
    responses={413: {"model": ErrorBody}, 415: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def create_records(
    request: Request,
    gateway: GatewayDep,
    member: CurrentMember,
    atomic: Annotated[bool, Query(description="Store nothing when any record is rejected.")] = False,
) -> Any:
    """Submit one record, or `{"records": [...]}` (up to 10,000), each signed by its provider.

    Each record is checked on its own; a bulk stores the good records and reports the bad
    ones with their codes (or, with `atomic=true`, stores nothing if any is bad). A
    record stored already is reported as `duplicate` and changes nothing, so a bulk can
    be sent again after fixing its bad records. A single record that is rejected gets an
    error response with its code.
    """
    require_role(member, Role.PROVIDER)
    body = await request.body()  # read, within the bulk limit, by the SignedRoute once the signer checked out
    # Parsing, checking and storing all run off the event loop: a bulk is megabytes of JSON.
    single, outcomes = await run_in_threadpool(_accept_body, gateway, member, body, atomic)
    if single and outcomes[0].error is not None:
        raise outcomes[0].error
    summary = json.dumps(_summary(gateway, outcomes), ensure_ascii=False, separators=(",", ":"))
    return Response(summary.encode(), media_type="application/json")


def _records_of(body: bytes, max_bulk: int) -> tuple[list[object], bool]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError("BODY_NOT_JSON", "the body is not JSON") from None
    if not isinstance(document, dict):
        raise InputError("REQUEST_INVALID", 'send one record object or {"records": [...]}')
    if "records" not in document:
        return [document], True
    items = document["records"]
    if not isinstance(items, list) or not items or len(document) != 1:
        raise InputError("REQUEST_INVALID", "records must be a non-empty list, alone in the body")
    if len(items) > max_bulk:
        raise InputError("BULK_TOO_LARGE", f"a bulk holds at most {max_bulk} records")
    return items, False


def _accept_body(gateway: Gateway, member: Requester, body: bytes, atomic: bool) -> tuple[bool, list[Outcome]]:
    items, single = _records_of(body, gateway.settings.max_bulk)
    return single, _accept(gateway, member, items, atomic)


def _accept(gateway: Gateway, member: Requester, items: list[object], atomic: bool) -> list[Outcome]:
    with Session(gateway.engine) as session, session.begin():
        outcomes = accept_records(
            session,
            gateway.keyring,
            items,
            requester=member.address,
            rules=SubmissionRules.of(gateway),
            now=gateway.now(),
            atomic=atomic,
        )
    if any(o.status == "accepted" for o in outcomes) and gateway.worker.pending_count() >= gateway.settings.batch_size:
        gateway.wake_worker()
    return outcomes


def _summary(gateway: Gateway, outcomes: list[Outcome]) -> dict[str, Any]:
    """The SubmissionResponse document, built as plain data: a bulk has 10,000 results, and
    a pydantic model of each (then validated again as the response model) cost more than
    storing the record."""
    results = []
    count = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for outcome in outcomes:
        error: GatewayError | None = outcome.error
        count[outcome.status] += 1
        results.append(
            {
                "index": outcome.index,
                "status": outcome.status,
                "recordId": outcome.record_id,
                "code": error.code if error else None,
                "message": error.message if error else None,
                "detail": error.detail if error else None,
            }
        )
    for status, number in count.items():
        if number:
            gateway.metrics.records.labels(status).inc(number)
    for code, number in Counter(o.error.code for o in outcomes if o.error is not None).items():
        gateway.metrics.rejections.labels(code).inc(number)
    return {
        "accepted": count["accepted"],
        "duplicates": count["duplicate"],
        "rejected": count["rejected"],
        "results": results,
    }


@router.get(
    "/{record_id}",
    response_model=RecordView,
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def read_record(
    record_id: str,
    request: Request,
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    purpose: Purpose = "unspecified",
    holder: Annotated[
        str | None,
        Query(
            pattern="^0x[0-9a-fA-F]{40}$",
            description="The account of the region's gateway that holds the record, when this one does not.",
        ),
    ] = None,
) -> Any:
    """A record's metadata, on-chain status and the payload the requester is entitled to.

    A record held by another region's gateway is answered 409 `RECORD_HELD_BY_PEER` with
    the holder's account; signed again with `holder=`, the read is forwarded to that holder
    alone, checked against the chain and served, never kept.
    """
    try:
        row = find_record(session, record_id)
    except NotFoundError:
        if not gateway.settings.peer_reads:
            raise
        if holder is None:
            raise held_elsewhere(gateway, record_id) from None
        original = OriginalRequest.of("GET", request.scope["path"], request.query_params.multi_items(), request.headers)
        return fetch_from_holder(gateway, record_id, original, to_checksum_address(holder))
    return record_view(gateway, session, member, row, purpose)


@router.get(
    "/{record_id}/proof",
    response_model=dict[str, Any],
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def read_record_proof(
    record_id: str,
    gateway: GatewayDep,
    session: SessionDep,
    member: CurrentMember,
    disclose: Annotated[str, Query(description="Comma-separated payload fields to disclose.", max_length=2000)] = "",
    purpose: Purpose = "unspecified",
) -> Any:
    """The record's proof bundle (credit-ledger/proof@2), disclosing `?disclose=` fields."""
    row = find_record(session, record_id)
    names = [name.strip() for name in disclose.split(",") if name.strip()]
    return proof_for(gateway, session, member, row, purpose, names).to_json()
