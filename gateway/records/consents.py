"""Subjects' consents for class-B queries (授权查询): registered, looked up, revoked.

A consent names the subject (by subjectRef only: the plain identifier is not stored),
the member allowed to query, the purpose, an expiry and the hash of the signed
authorization document the member holds. The member that registers a consent is the
requester itself or a governor; either may revoke it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain_client import Role
from gateway.infra.errors import AuthError, ConflictError, InputError, NotFoundError
from gateway.infra.storage import Consent

MAX_PURPOSE_LENGTH = 200


@dataclass(frozen=True)
class ConsentRequest:
    """What a member asks to register."""

    subject_ref: bytes
    requester: str
    purpose: str
    expires_at: int
    document_hash: bytes


def create_consent(
    session: Session, request: ConsentRequest, *, created_by: str, roles: frozenset[Role], now: int
) -> Consent:
    """Register a consent (the caller commits)."""
    if request.requester != created_by and Role.GOVERNOR not in roles:
        raise AuthError("CONSENT_NOT_REGISTRANT", "only the requester named in a consent, or a governor, registers it")
    if request.expires_at <= now:
        raise InputError("CONSENT_EXPIRED", "the consent's expiry is in the past")
    if not request.purpose.strip() or len(request.purpose) > MAX_PURPOSE_LENGTH:
        raise InputError("CONSENT_PURPOSE_INVALID", f"the purpose must be 1 to {MAX_PURPOSE_LENGTH} characters")
    consent = Consent(
        consent_id=os.urandom(32),
        subject_ref=request.subject_ref,
        requester=request.requester,
        purpose=request.purpose,
        expires_at=request.expires_at,
        document_hash=request.document_hash,
        created_by=created_by,
        created_at=now,
        revoked_at=None,
    )
    session.add(consent)
    return consent


def revoke_consent(session: Session, consent_id: bytes, *, by: str, roles: frozenset[Role], now: int) -> Consent:
    """Revoke a consent (the caller commits); 404 for an unknown id."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError("CONSENT_NOT_FOUND", "no consent with this id")
    if by not in (consent.created_by, consent.requester) and Role.GOVERNOR not in roles:
        raise AuthError("CONSENT_NOT_REGISTRANT", "only the consent's registrant or a governor revokes it")
    if consent.revoked_at is not None:
        raise ConflictError("CONSENT_REVOKED", "the consent is revoked already")
    consent.revoked_at = now
    return consent


def valid_consent(session: Session, subject_ref: bytes, requester: str, purpose: str, now: int) -> Consent | None:
    """A consent in force for this subject, requester and purpose, if any."""
    query = (
        select(Consent)
        .where(
            Consent.subject_ref == subject_ref,
            Consent.requester == requester,
            Consent.purpose == purpose,
            Consent.revoked_at.is_(None),
            Consent.expires_at > now,
        )
        .order_by(Consent.expires_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()
