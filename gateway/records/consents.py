"""Subjects' consents for class-B queries (授权查询): registered, looked up, withdrawn.

A consent comes from its subject: the subject signs it (EIP-712 SubjectConsent in the
"CreditSubjects" domain, docs/formats.md) with the key a registrar's credential binds to
its subjectRef. The gateway registers it only after checking

    the credential (gateway.records.subjects: registrar's signature and role, validity,
        not revoked on chain),
    that the consent names that credential and is signed by the key it binds,
    its audience: this chain id and this consortium,
    its expiry: in the future, at most one year away,
    its grantee: an active member, and its purpose,
    its nonce: unused by this subject (a replayed consent is refused).

No member, governors included, can register a consent without the subject's signature;
whoever submits it is recorded as `created_by`. Only the subject withdraws a consent
(a signed WithdrawConsent); the grantee may renounce one. The consent's id is its digest.
At every read, the credential is checked again, so a revoked key's consents stop at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chain_client import (
    MAX_CONSENT_LIFETIME_S,
    ConsentWithdrawal,
    SignedCredential,
    SubjectConsent,
    recover_signer,
)
from gateway.infra.errors import AuthError, ConflictError, GatewayError, InputError, NotFoundError
from gateway.infra.service import Gateway
from gateway.infra.storage import Consent
from gateway.records.subjects import BoundSubject, binding_in_force, check_credential, subject_domain

MAX_PURPOSE_LENGTH = 200


@dataclass(frozen=True)
class SignedConsent:
    """What is submitted: the subject's consent, its signature and the credential binding its key."""

    consent: SubjectConsent
    signature: bytes
    credential: SignedCredential


def register_consent(gw: Gateway, session: Session, signed: SignedConsent, *, submitted_by: str, now: int) -> Consent:
    """Check a subject-signed consent and store it (the caller commits); GatewayError otherwise."""
    subject = check_credential(gw, signed.credential, now)
    consent = signed.consent
    if consent.chain_id != gw.stack.chain.chain_id or consent.consortium != gw.stack.consortium.address:
        raise AuthError("CONSENT_AUDIENCE_MISMATCH", "the consent is for another chain or consortium")
    digest = consent.digest(subject_domain(gw))
    if consent.credential != subject.credential_hash or recover_signer(digest, signed.signature) != subject.key:
        raise AuthError("CONSENT_SIGNATURE_INVALID", "the consent is not signed by the key its credential binds")
    if consent.expires_at <= now:
        raise InputError("CONSENT_EXPIRED", "the consent's expiry is in the past")
    if consent.expires_at > now + MAX_CONSENT_LIFETIME_S:
        raise InputError("CONSENT_TOO_LONG", "a consent lasts at most one year")
    if not consent.purpose.strip() or len(consent.purpose) > MAX_PURPOSE_LENGTH:
        raise InputError("CONSENT_PURPOSE_INVALID", f"the purpose must be 1 to {MAX_PURPOSE_LENGTH} characters")
    if not gw.view.roles(consent.grantee):
        raise InputError("CONSENT_GRANTEE_NOT_MEMBER", "the consent's grantee is not an active member")
    if _nonce_used(session, subject.subject_ref, consent.nonce):
        raise ConflictError("CONSENT_REPLAYED", "this subject used the consent's nonce before")
    row = Consent(
        consent_id=digest,
        subject_ref=subject.subject_ref,
        requester=consent.grantee,
        purpose=consent.purpose,
        expires_at=consent.expires_at,
        document_hash=digest,
        created_by=submitted_by,
        created_at=now,
        revoked_at=None,
        subject_key=subject.key,
        credential_hash=subject.credential_hash,
        registrar=subject.registrar,
        credential_expires_at=subject.credential_expires_at,
        nonce=consent.nonce,
        signature=signed.signature,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError("CONSENT_REPLAYED", "this subject used the consent's nonce before") from None
    return row


def _nonce_used(session: Session, subject_ref: bytes, nonce: bytes) -> bool:
    query = select(Consent.consent_id).where(Consent.subject_ref == subject_ref, Consent.nonce == nonce)
    return session.scalars(query).first() is not None


def withdraw_consent(
    gw: Gateway, session: Session, consent_id: bytes, signature: bytes, *, subject: BoundSubject, now: int
) -> Consent:
    """The subject's signed withdrawal of one of its consents (the caller commits)."""
    consent = _find(session, consent_id)
    if consent.subject_ref != subject.subject_ref:
        raise AuthError("CONSENT_NOT_SUBJECT", "the consent is another subject's")
    withdrawal = ConsentWithdrawal(consent_id, subject.credential_hash)
    if recover_signer(withdrawal.digest(subject_domain(gw)), signature) != subject.key:
        raise AuthError("CONSENT_SIGNATURE_INVALID", "the withdrawal is not signed by the key its credential binds")
    return _end(consent, now)


def renounce_consent(session: Session, consent_id: bytes, *, by: str, now: int) -> Consent:
    """The grantee gives up a consent it holds (the caller commits)."""
    consent = _find(session, consent_id)
    if by != consent.requester:
        raise AuthError("CONSENT_NOT_REGISTRANT", "only the consent's grantee renounces it; its subject withdraws it")
    return _end(consent, now)


def _find(session: Session, consent_id: bytes) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError("CONSENT_NOT_FOUND", "no consent with this id")
    return consent


def _end(consent: Consent, now: int) -> Consent:
    if consent.revoked_at is not None:
        raise ConflictError("CONSENT_REVOKED", "the consent is revoked already")
    consent.revoked_at = now
    return consent


def consents_of(session: Session, subject_ref: bytes) -> list[Consent]:
    """A subject's consents, newest first."""
    query = select(Consent).where(Consent.subject_ref == subject_ref).order_by(Consent.created_at.desc())
    return list(session.scalars(query))


def valid_consent(
    gw: Gateway, session: Session, subject_ref: bytes, requester: str, purpose: str, now: int
) -> Consent | None:
    """A subject-signed consent in force for this subject, requester and purpose, if any.

    In force: not withdrawn, not expired, and its credential still binds (registrar's role,
    credential's validity, no revocation on chain, checked now).
    """
    query = (
        select(Consent)
        .where(
            Consent.subject_ref == subject_ref,
            Consent.requester == requester,
            Consent.purpose == purpose,
            Consent.revoked_at.is_(None),
            Consent.expires_at > now,
            Consent.credential_hash.is_not(None),
            Consent.credential_expires_at > now,
        )
        .order_by(Consent.expires_at.desc())
    )
    for consent in session.scalars(query):
        if _binding_holds(gw, consent, now):
            return consent
    return None


def _binding_holds(gw: Gateway, consent: Consent, now: int) -> bool:
    assert consent.registrar is not None
    assert consent.credential_hash is not None
    assert consent.credential_expires_at is not None
    try:
        # issuedAt was checked at registration; the lower bound holds since.
        binding_in_force(gw, consent.registrar, 0, consent.credential_expires_at, consent.credential_hash, now)
    except GatewayError:
        return False
    return True
