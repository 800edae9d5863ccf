"""Subjects signed in with their own key: the `CurrentSubject` dependency.

A subject signs a request as a member does (gateway.infra.request_auth: the X-CL-* headers
over audience, method, path, query, body hash, time and nonce), with the key its
registrar's credential binds, and sends the credential itself
(credit-ledger/subject-credential@1, RFC 8785 JSON, base64url without padding) in
`X-CL-Subject-Credential`. Its `SubjectRoute` checks the request's signature from the
headers, then the credential (gateway.records.subjects: the registrar's signature and
role, validity, no revocation on chain), then that the request's signer is the key the
credential binds; only then is the nonce used up and the body read. The credential header is not under the
request's signature: it needs none, being the registrar's signed statement, and it names
the signer's key, which the request's signature proves.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from chain_client import SignedCredential, SubjectDocumentError
from gateway.api.signed import SignedRoute
from gateway.infra.errors import AuthError
from gateway.infra.request_auth import SignedRequest
from gateway.infra.service import Gateway
from gateway.records.subjects import BoundSubject, check_credential

HEADER_CREDENTIAL = "X-CL-Subject-Credential"
MAX_CREDENTIAL_HEADER = 2048


def parse_credential_header(value: str) -> SignedCredential:
    """The credential a header carries; AuthError SUBJECT_CREDENTIAL_INVALID when malformed."""
    try:
        if len(value) > MAX_CREDENTIAL_HEADER:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return SignedCredential.from_json(json.loads(raw))
    except (ValueError, binascii.Error, SubjectDocumentError, UnicodeDecodeError):
        raise AuthError("SUBJECT_CREDENTIAL_INVALID", f"{HEADER_CREDENTIAL} is not a subject credential") from None


class SubjectRoute(SignedRoute):
    """A signed route for subjects: the signer must be the key a valid credential binds."""

    async def admit(self, gateway: Gateway, request: Request, signed: SignedRequest) -> None:
        header = request.headers.get(HEADER_CREDENTIAL)
        if header is None:
            raise AuthError(
                "SUBJECT_CREDENTIAL_MISSING", f"a subject's request carries its credential in {HEADER_CREDENTIAL}"
            )
        credential = parse_credential_header(header)
        subject = await run_in_threadpool(_checked, gateway, credential)
        if signed.address != subject.key:
            raise AuthError("SUBJECT_KEY_MISMATCH", "the request is not signed by the key the credential binds")
        request.state.subject = subject


def current_subject(request: Request) -> BoundSubject:
    """The subject that signed this request with the key its credential binds (admitted by its SubjectRoute)."""
    subject = getattr(request.state, "subject", None)
    if not isinstance(subject, BoundSubject):  # a route asking for a subject must be a SubjectRoute: fail closed
        raise AuthError("SUBJECT_CREDENTIAL_MISSING", "this endpoint is not served as a subject's route")
    return subject


def _checked(gateway: Gateway, credential: SignedCredential) -> BoundSubject:
    return check_credential(gateway, credential, gateway.now())


CurrentSubject = Annotated[BoundSubject, Depends(current_subject)]
