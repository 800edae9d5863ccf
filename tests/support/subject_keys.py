"""Subjects with keys for tests: a registrar's credential, and the subject's client."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from credit_client.subject import SubjectClient, issue_credential
from tests.support.served import Served

HOUR_S = 3600


def bind_subject(
    served: Served, subject: str, *, registrar: str = "samr-beijing", key: LocalAccount | None = None, **kwargs: Any
) -> SubjectClient:
    """A fresh key for the subject, bound by a demo registrar's credential; the subject's client."""
    key = key or Account.create()
    with served.client() as anonymous:
        deployment = anonymous.deployment()
    kwargs.setdefault("issued_at", served.gateway.now())
    credential = issue_credential(
        served.account(registrar),
        deployment,
        subject=subject,
        subject_key=served.gateway.subject_key,
        key_address=key.address,
        **kwargs,
    )
    return SubjectClient(served.url, key, credential)


def consent_for(
    served: Served, subject: SubjectClient, grantee: str, purpose: str, *, lifetime_s: int = HOUR_S, **kwargs: Any
) -> dict[str, Any]:
    """The subject's signed consent for a demo member, as POST /v1/consents takes it."""
    return subject.sign_consent(
        grantee=served.account(grantee).address,
        purpose=purpose,
        expires_at=served.gateway.now() + lifetime_s,
        **kwargs,
    )
