"""Consents of subjects for class-B queries (授权查询), signed by the subject itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.api.deps import CurrentMember, GatewayDep, SessionDep
from gateway.api.schemas import ConsentIn, ConsentOut, ErrorBody
from gateway.api.signed import SignedRoute
from gateway.infra.errors import NotFoundError
from gateway.records.consents import register_consent, renounce_consent

router = APIRouter(prefix="/v1/consents", tags=["consents"], route_class=SignedRoute)


@router.post(
    "",
    response_model=ConsentOut,
    status_code=201,
    responses={403: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def create_consent_route(body: ConsentIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """Register a consent the subject signed with its registrar-bound key (a member submits it for the subject)."""
    consent = register_consent(gateway, session, body.signed(), submitted_by=member.address, now=gateway.now())
    session.commit()
    return ConsentOut.of(consent)


@router.delete("/{consent_id}", response_model=ConsentOut, responses={404: {"model": ErrorBody}})
def revoke_consent_route(consent_id: str, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """The grantee renounces a consent: later class-B reads that rested on it are refused."""
    consent = renounce_consent(session, _consent_key(consent_id), by=member.address, now=gateway.now())
    session.commit()
    return ConsentOut.of(consent)


def _consent_key(consent_id: str) -> bytes:
    try:
        return bytes.fromhex(consent_id.removeprefix("0x"))
    except ValueError:
        raise NotFoundError("CONSENT_NOT_FOUND", "no consent with this id") from None
