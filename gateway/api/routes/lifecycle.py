"""The record lifecycle: objections and their resolution, revocation, credit repair.

Each request carries the member's EIP-712 instruction, which the gateway relays; the
response gives the record's status on chain after the transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.api.deps import CurrentMember, GatewayDep, SessionDep
from gateway.api.schemas import (
    ErrorBody,
    InstructionOnly,
    ObjectionIn,
    RepairIn,
    RepairRejectionIn,
    ResolutionIn,
    RevocationIn,
)
from gateway.api.signed import SignedRoute
from gateway.lifecycle import record_steps as lifecycle

router = APIRouter(prefix="/v1/records", tags=["lifecycle"], route_class=SignedRoute)

_ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (403, 404, 409, 422, 503)}


@router.post("/{record_id}/objections", response_model=dict[str, Any], responses=_ERRORS)
def file_objection(
    record_id: str, body: ObjectionIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember
) -> Any:
    """File an objection on the subject's behalf (PROVIDER members): the record becomes Disputed.
    A Disputed record takes more objections; the provider's resolution answers them all."""
    return lifecycle.file_objection(gateway, session, member, record_id, _bytes32(body.reasonHash), body.instruction)


@router.post("/{record_id}/objections/resolution", response_model=dict[str, Any], responses=_ERRORS)
def resolve_objection(
    record_id: str, body: ResolutionIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember
) -> Any:
    """The provider resolves an objection: `rejected`, `revoked`, or `corrected` by `correctionId`
    (an anchored record that supersedes this one; the old one then shows Corrected and links to it)."""
    return lifecycle.resolve_objection(
        gateway, session, member, record_id, body.outcome, body.correctionId, body.instruction
    )


@router.post("/{record_id}/revocation", response_model=dict[str, Any], responses=_ERRORS)
def revoke(record_id: str, body: RevocationIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """The provider revokes its record."""
    return lifecycle.revoke(gateway, session, member, record_id, _bytes32(body.reasonHash), body.instruction)


@router.post("/{record_id}/repairs", response_model=dict[str, Any], responses=_ERRORS)
def request_repair(
    record_id: str, body: RepairIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember
) -> Any:
    """Request credit repair on the subject's behalf (PROVIDER members), with the evidence's kind and
    hash. A pending request never refuses another; approval or rejection answers them all."""
    return lifecycle.request_repair(
        gateway, session, member, record_id, body.evidenceKind, _bytes32(body.documentsHash), body.instruction
    )


@router.post("/{record_id}/repairs/approval", response_model=dict[str, Any], responses=_ERRORS)
def approve_repair(
    record_id: str, body: InstructionOnly, gateway: GatewayDep, session: SessionDep, member: CurrentMember
) -> Any:
    """The provider approves the pending repair requests (refused before the catalog's minimum days):
    the record is Repaired and leaves publicity and list checks at once."""
    return lifecycle.approve_repair(gateway, session, member, record_id, body.instruction)


@router.post("/{record_id}/repairs/rejection", response_model=dict[str, Any], responses=_ERRORS)
def reject_repair(
    record_id: str, body: RepairRejectionIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember
) -> Any:
    """The provider rejects the pending repair requests, all of them."""
    return lifecycle.reject_repair(gateway, session, member, record_id, _bytes32(body.reasonHash), body.instruction)


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value[2:])
