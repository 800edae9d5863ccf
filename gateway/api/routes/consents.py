"""Consents of subjects for class-B queries (授权查询)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chain_client import checksummed
from gateway.api.deps import CurrentMember, GatewayDep, SessionDep
from gateway.api.schemas import ConsentIn, ConsentOut, ErrorBody
from gateway.api.signed import SignedRoute
from gateway.infra.errors import InputError, NotFoundError
from gateway.infra.storage import Consent
from gateway.infra.subject_ids import SubjectIdError, parse_subject
from gateway.records.consents import ConsentRequest, create_consent, revoke_consent

router = APIRouter(prefix="/v1/consents", tags=["consents"], route_class=SignedRoute)


@router.post("", response_model=ConsentOut, status_code=201, responses={403: {"model": ErrorBody}})
def create_consent_route(body: ConsentIn, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """Register a subject's signed consent for a member (the requester itself, or by a governor)."""
    try:
        subject_ref = gateway.subject_ref(parse_subject(body.subject))
    except SubjectIdError as exc:
        raise InputError(exc.code, str(exc), detail=exc.detail) from None
    request = ConsentRequest(
        subject_ref=subject_ref,
        requester=checksummed(body.requester),
        purpose=body.purpose,
        expires_at=body.expiresAt,
        document_hash=bytes.fromhex(body.documentHash[2:]),
    )
    consent = create_consent(session, request, created_by=member.address, roles=member.roles, now=gateway.now())
    session.commit()
    return _out(consent)


@router.delete("/{consent_id}", response_model=ConsentOut, responses={404: {"model": ErrorBody}})
def revoke_consent_route(consent_id: str, gateway: GatewayDep, session: SessionDep, member: CurrentMember) -> Any:
    """Revoke a consent: later class-B reads that rested on it are refused."""
    try:
        key = bytes.fromhex(consent_id.removeprefix("0x"))
    except ValueError:
        raise NotFoundError("CONSENT_NOT_FOUND", "no consent with this id") from None
    consent = revoke_consent(session, key, by=member.address, roles=member.roles, now=gateway.now())
    session.commit()
    return _out(consent)


def _out(consent: Consent) -> dict[str, Any]:
    return {
        "consentId": "0x" + consent.consent_id.hex(),
        "subjectRef": "0x" + consent.subject_ref.hex(),
        "requester": consent.requester,
        "purpose": consent.purpose,
        "expiresAt": consent.expires_at,
        "documentHash": "0x" + consent.document_hash.hex(),
        "createdBy": consent.created_by,
        "createdAt": consent.created_at,
        "revokedAt": consent.revoked_at,
    }
