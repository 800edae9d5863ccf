"""Subjects as actors, client side: a registrar's credential, a subject's signed consents and requests.

    from credit_client.subject import SubjectClient, issue_credential

    # the registrar (market regulation for companies, public security for persons)
    with GatewayClient("http://127.0.0.1:8101", registrar_key) as registrar:
        ref = registrar.subject_ref("91110108MA01C5XL6R", purpose="key binding")  # registered lookup
    credential = issue_credential(registrar_key, deployment, subject="91110108MA01C5XL6R",
                                  subject_ref=ref, key_address=subject_key.address)
    # the subject, with its own key
    with SubjectClient("http://127.0.0.1:8101", subject_key, credential) as me:
        me.give_consent(grantee=court.address, purpose="government-procurement-review", expires_at=...)
        me.records()       # its own records in full (自查)
        me.access_log()    # who read them, when, why
        me.file_objection(record_id, reason_hash)                         # its own 异议
        me.request_repair(record_id, "penalty-fulfilled", documents_hash)  # its own 信用修复申请

`sign_consent` gives the body of `POST /v1/consents` for a member to submit on the
subject's behalf (`GatewayClient.call("POST", "/v1/consents", body=...)`). Everything the
subject signs is EIP-712 in the "CreditSubjects" domain (docs/formats.md).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount

from chain_client import (
    ConsentWithdrawal,
    SignedCredential,
    SubjectConsent,
    SubjectCredential,
    SubjectDomain,
    SubjectFiling,
    checksummed,
    sign_consent,
    sign_credential,
    sign_filing,
    sign_withdrawal,
)
from credit_client.client import GatewayClient, GatewayDeployment
from credit_client.subject_refs import resolve_subject_ref
from gateway.lifecycle.terms import EvidenceKind, repair_evidence_hash

HEADER_CREDENTIAL = "X-CL-Subject-Credential"
DEFAULT_CREDENTIAL_LIFETIME_S = 5 * 365 * 86_400


def subject_domain(deployment: GatewayDeployment) -> SubjectDomain:
    """The "CreditSubjects" EIP-712 domain of a gateway's deployment."""
    return SubjectDomain(deployment.chain_id, checksummed(deployment.contracts["SubjectKeys"]))


def issue_credential(
    registrar: LocalAccount,
    deployment: GatewayDeployment,
    *,
    subject: str,
    key_address: str,
    subject_ref: bytes | None = None,
    subject_key: bytes | None = None,
    issued_at: int | None = None,
    lifetime_s: int = DEFAULT_CREDENTIAL_LIFETIME_S,
) -> SignedCredential:
    """A registrar's credential binding `key_address` to the subject (by its subjectRef).

    The registrar asks its gateway for the subjectRef (`GatewayClient.subject_ref`,
    registered) and holds no subject key; development tools that hold it pass `subject_key`.
    """
    subject_ref = resolve_subject_ref(subject, subject_ref=subject_ref, subject_key=subject_key)
    issued = int(time.time()) if issued_at is None else issued_at
    credential = SubjectCredential(
        subject_ref=subject_ref,
        subject_key=checksummed(key_address),
        registrar=registrar.address,
        issued_at=issued,
        expires_at=issued + lifetime_s,
    )
    return sign_credential(registrar, subject_domain(deployment), credential)


def credential_header(credential: SignedCredential) -> str:
    """The X-CL-Subject-Credential value: the credential document, base64url without padding."""
    document = json.dumps(credential.to_json(), sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(document).rstrip(b"=").decode()


def sign_consent_body(
    key: LocalAccount,
    credential: SignedCredential,
    deployment: GatewayDeployment,
    *,
    grantee: str,
    purpose: str,
    expires_at: int,
    nonce: bytes | None = None,
) -> dict[str, Any]:
    """The subject's signed consent, as the body of POST /v1/consents (or /v1/self/consents)."""
    domain = subject_domain(deployment)
    consent = SubjectConsent(
        credential=credential.credential.digest(domain),
        grantee=checksummed(grantee),
        purpose=purpose,
        expires_at=expires_at,
        chain_id=deployment.chain_id,
        consortium=checksummed(deployment.contracts["Consortium"]),
        nonce=nonce or os.urandom(32),
    )
    return {
        "consent": consent.to_json(),
        "signature": "0x" + sign_consent(key, domain, consent).hex(),
        "credential": credential.to_json(),
    }


class SubjectClient:
    """A subject's signed requests to one gateway: its key, and the credential binding it."""

    def __init__(self, base_url: str, key: LocalAccount, credential: SignedCredential, **kwargs: Any) -> None:
        self.key = key
        self.credential = credential
        self._client = GatewayClient(base_url, key, **kwargs)
        self._deployment: GatewayDeployment | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> SubjectClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def deployment(self) -> GatewayDeployment:
        """The chain and contracts the gateway serves (fetched once)."""
        if self._deployment is None:
            self._deployment = self._client.deployment()
        return self._deployment

    def call(self, method: str, path: str, *, params: Sequence[tuple[str, str]] = (), body: Any = None) -> Any:
        """A request signed with the subject's key, carrying its credential; JSON or GatewayClientError."""
        headers = {HEADER_CREDENTIAL: credential_header(self.credential)}
        return self._client.call(method, path, params=params, body=body, headers=headers)

    def sign_consent(
        self, *, grantee: str, purpose: str, expires_at: int, nonce: bytes | None = None
    ) -> dict[str, Any]:
        """A signed consent, for the grantee (or anyone) to submit at POST /v1/consents."""
        return sign_consent_body(
            self.key,
            self.credential,
            self.deployment(),
            grantee=grantee,
            purpose=purpose,
            expires_at=expires_at,
            nonce=nonce,
        )

    def give_consent(self, *, grantee: str, purpose: str, expires_at: int) -> Any:
        """Sign a consent and register it at the gateway itself."""
        body = self.sign_consent(grantee=grantee, purpose=purpose, expires_at=expires_at)
        return self.call("POST", "/v1/self/consents", body=body)

    def withdraw_consent(self, consent_id: str) -> Any:
        """Sign the withdrawal of one of the subject's consents and send it."""
        domain = subject_domain(self.deployment())
        withdrawal = ConsentWithdrawal(bytes.fromhex(consent_id[2:]), self.credential.credential.digest(domain))
        signature = sign_withdrawal(self.key, domain, withdrawal)
        return self.call(
            "POST", f"/v1/self/consents/{consent_id}/withdrawal", body={"signature": "0x" + signature.hex()}
        )

    def records(self, *, limit: int = 100, offset: int = 0) -> Any:
        """The subject's own records in full (自查)."""
        return self.call("GET", "/v1/self/records", params=[("limit", str(limit)), ("offset", str(offset))])

    def access_log(self, *, limit: int = 100) -> Any:
        """Who read the subject's records, when and why."""
        return self.call("GET", "/v1/self/access-log", params=[("limit", str(limit))])

    def consents(self) -> Any:
        """The subject's consents."""
        return self.call("GET", "/v1/self/consents")

    def sign_objection(self, record_id: str, reason_hash: bytes, *, nonce: bytes | None = None) -> dict[str, Any]:
        """The body of POST /v1/self/records/{id}/objections: a signed SubjectObjection."""
        filing = SubjectFiling(
            False, bytes.fromhex(record_id[2:]), reason_hash, self._credential_hash(), nonce or os.urandom(32)
        )
        return {"reasonHash": "0x" + reason_hash.hex(), **self._signed(filing)}

    def sign_repair_request(
        self, record_id: str, evidence_kind: str, documents_hash: bytes, *, nonce: bytes | None = None
    ) -> dict[str, Any]:
        """The body of POST /v1/self/records/{id}/repairs: a signed SubjectRepairRequest over the evidenceHash."""
        evidence_hash = repair_evidence_hash(EvidenceKind(evidence_kind), documents_hash)
        filing = SubjectFiling(
            True, bytes.fromhex(record_id[2:]), evidence_hash, self._credential_hash(), nonce or os.urandom(32)
        )
        return {"evidenceKind": evidence_kind, "documentsHash": "0x" + documents_hash.hex(), **self._signed(filing)}

    def file_objection(self, record_id: str, reason_hash: bytes) -> Any:
        """File an objection (异议) on one of the subject's own records itself; the record becomes Disputed."""
        body = self.sign_objection(record_id, reason_hash)
        return self.call("POST", f"/v1/self/records/{record_id}/objections", body=body)

    def request_repair(self, record_id: str, evidence_kind: str, documents_hash: bytes) -> Any:
        """Request credit repair (信用修复) of one of the subject's own records itself."""
        body = self.sign_repair_request(record_id, evidence_kind, documents_hash)
        return self.call("POST", f"/v1/self/records/{record_id}/repairs", body=body)

    def _credential_hash(self) -> bytes:
        return self.credential.credential.digest(subject_domain(self.deployment()))

    def _signed(self, filing: SubjectFiling) -> dict[str, str]:
        signature = sign_filing(self.key, subject_domain(self.deployment()), filing)
        return {"nonce": "0x" + filing.nonce.hex(), "signature": "0x" + signature.hex()}
