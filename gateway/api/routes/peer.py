"""What a region's gateway answers another region's gateway (PEER role only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from chain_client import Role
from gateway.api.deps import CurrentMember, GatewayDep, SessionDep, require_role
from gateway.api.schemas import ErrorBody, PeerStandingsIn
from gateway.api.signed import BodySize, SignedRoute, body_limit
from gateway.infra.errors import AuthError, InputError
from gateway.infra.request_auth import HEADER_NONCE
from gateway.records.entitlement import View
from gateway.records.peers import OriginalRequest, department_of
from gateway.records.reads import find_record, proof_bundle, subject_opening
from gateway.records.releases import grant_for, open_checked, record_view
from gateway.standing.regional import region_part
from gateway.standing.screening import MAX_SCREENING_SUBJECTS

router = APIRouter(prefix="/peer/v1", tags=["peers"], route_class=SignedRoute)


@router.get("/holdings/{record_id}", response_model=dict[str, Any], responses={404: {"model": ErrorBody}})
def read_holding(record_id: str, gateway: GatewayDep, session: SessionDep, peer: CurrentMember) -> Any:
    """Whether this gateway holds a record: all a peer asks before a department's request goes anywhere."""
    require_role(peer, Role.PEER)
    find_record(session, record_id)
    return {"recordId": record_id.lower(), "holder": gateway.account.address}


@router.get(
    "/records/{record_id}",
    response_model=dict[str, Any],
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}},
)
def read_for_peer(
    record_id: str,
    gateway: GatewayDep,
    session: SessionDep,
    peer: CurrentMember,
    on_behalf: Annotated[str, Header(alias="X-CL-On-Behalf", description="The department's forwarded signed request.")],
) -> Any:
    """A record for a department of another region, asked by that region's gateway.

    The department's own signed request decides entitlement: signed for the asking gateway,
    naming this one as holder, with its own purpose; the release is logged for the
    department. Full views only, with the record seed and proof bundle so the asking
    gateway checks the payload against the chain.
    """
    require_role(peer, Role.PEER)
    asked = department_of(gateway, OriginalRequest.decode(on_behalf), record_id, peer=peer.address)
    row = find_record(session, record_id)
    if grant_for(gateway, session, asked.department, row, asked.purpose).view != View.FULL:
        raise AuthError("ACCESS_NOT_ENTITLED", "the department may see only public fields of this record")
    view = record_view(gateway, session, asked.department, row, asked.purpose)
    opened = open_checked(gateway, row)
    return {
        "view": view,
        "recordSeed": "0x" + opened.record_seed.hex(),
        "bundle": proof_bundle(session, gateway.stack, row, gateway.trees).with_subject(subject_opening(row)).to_json(),
    }


@router.post(
    "/standings",
    response_model=dict[str, Any],
    responses={403: {"model": ErrorBody}, 413: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    openapi_extra=body_limit(BodySize.RECORD),
)
def read_standings(
    body: PeerStandingsIn, request: Request, gateway: GatewayDep, session: SessionDep, peer: CurrentMember
) -> Any:
    """This region's part of a consortium-wide lists answer (`credit-ledger/standing-part@1`).

    For the subjectRefs asked (up to 10,000), which ones this region's records put on the
    red or black list now and the measures that apply: booleans and codes only, no record
    ids or contents. Signed by this gateway for the asking gateway, the query and the
    request's nonce (the signed request's nonce is used once, so a replay is refused).
    """
    require_role(peer, Role.PEER)
    if len(body.subjectRefs) > MAX_SCREENING_SUBJECTS:
        raise InputError("SCREENING_TOO_LARGE", f"a query holds at most {MAX_SCREENING_SUBJECTS:,} subjects")
    refs = [bytes.fromhex(ref[2:]) for ref in body.subjectRefs]
    return region_part(gateway, session, peer, refs, request.headers[HEADER_NONCE])
