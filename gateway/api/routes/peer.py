"""What a region's gateway answers another region's gateway (PEER role only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header

from chain_client import Role
from gateway.api.deps import CurrentMember, GatewayDep, SessionDep, require_role
from gateway.api.schemas import ErrorBody
from gateway.api.signed import SignedRoute
from gateway.infra.errors import AuthError
from gateway.records.entitlement import View
from gateway.records.peers import OriginalRequest, department_of
from gateway.records.reads import find_record, proof_bundle, subject_opening
from gateway.records.releases import grant_for, open_checked, record_view

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
