"""Subjects as actors: checking a registrar's credential that binds a subject's key.

A subject (a company by its USCC, a person by its resident id number) signs with its own
key; a REGISTRAR member's credential (EIP-712 SubjectCredential in the "CreditSubjects"
domain, docs/formats.md) binds that key to the subject's subjectRef. A credential binds
while:

    its signature recovers the registrar it names,
    that registrar is an active REGISTRAR member now,
    now lies between its issuedAt and its expiresAt,
    its digest is not revoked in the SubjectKeys registry on chain.

All four are checked whenever the gateway relies on a credential: when a subject signs
in, when a consent is registered, and again at every class-B read resting on a consent,
so a revoked key stops working at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress

from chain_client import Role, SignedCredential, SubjectCredential, SubjectDomain
from gateway.infra.errors import AuthError
from gateway.infra.service import Gateway

# A registrar's clock and ours may differ a little: a credential issued "now" is taken.
ISSUE_SKEW_S = 300


@dataclass(frozen=True)
class BoundSubject:
    """A subject whose key a credential in force binds."""

    subject_ref: bytes
    key: ChecksumAddress
    credential_hash: bytes
    registrar: ChecksumAddress
    credential_expires_at: int


def subject_domain(gw: Gateway) -> SubjectDomain:
    """The "CreditSubjects" EIP-712 domain of this gateway's deployment."""
    return gw.stack.subject_keys.domain


def check_credential(gw: Gateway, signed: SignedCredential, now: int) -> BoundSubject:
    """The subject a credential binds; AuthError with a SUBJECT_* code when it binds nothing."""
    credential = signed.credential
    digest = credential.digest(subject_domain(gw))
    if signed.registrar_signer(subject_domain(gw)) != credential.registrar:
        raise AuthError("SUBJECT_CREDENTIAL_INVALID", "the credential's signature is not its registrar's")
    check_binding(gw, credential, digest, now)
    return BoundSubject(
        credential.subject_ref, credential.subject_key, digest, credential.registrar, credential.expires_at
    )


def check_binding(gw: Gateway, credential: SubjectCredential, digest: bytes, now: int) -> None:
    """The checks a signed credential must pass again whenever it is relied on."""
    binding_in_force(gw, credential.registrar, credential.issued_at, credential.expires_at, digest, now)


def binding_in_force(
    gw: Gateway, registrar: str, issued_at: int, expires_at: int, credential_hash: bytes, now: int
) -> None:
    """AuthError unless the registrar is a REGISTRAR, the credential current and not revoked on chain."""
    if Role.REGISTRAR not in gw.view.roles(registrar):
        raise AuthError("SUBJECT_REGISTRAR_REQUIRED", "the credential is not signed by an active REGISTRAR member")
    if not issued_at - ISSUE_SKEW_S <= now < expires_at:
        raise AuthError("SUBJECT_CREDENTIAL_EXPIRED", "the credential is expired or not yet valid")
    if gw.stack.subject_keys.revoked_at(credential_hash) != 0:
        raise AuthError("SUBJECT_CREDENTIAL_REVOKED", "a registrar revoked this credential")
