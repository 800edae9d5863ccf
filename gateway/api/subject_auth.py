"""Subjects signed in with their own key: the `CurrentSubject` dependency.

A subject signs a request as a member does (gateway.infra.request_auth: the X-CL-* headers
over method, path, query, body, time and nonce), with the key its registrar's credential
binds, and sends the credential itself (credit-ledger/subject-credential@1, RFC 8785 JSON,
base64url without padding) in `X-CL-Subject-Credential`. The gateway checks the request's
signature, then the credential (gateway.records.subjects: the registrar's signature and
role, validity, no revocation on chain), then that the request's signer is the key the
credential binds; only then is the nonce used up. The credential header is not under the
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
from gateway.api.deps import GatewayDep
from gateway.infra.errors import AuthError
from gateway.infra.request_auth import RequestAuthError, verify_request
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


async def current_subject(request: Request, gateway: GatewayDep) -> BoundSubject:
    """The subject that signed this request with the key its credential binds, its nonce used up."""
    body = await request.body()
    try:
        signed = verify_request(
            request.headers,
            request.method,
            request.scope["path"],
            request.query_params.multi_items(),
            body,
            now=gateway.wall_clock(),
            window_s=gateway.settings.auth_window_s,
        )
    except RequestAuthError as exc:
        raise AuthError(exc.code, str(exc)) from None
    header = request.headers.get(HEADER_CREDENTIAL)
    if header is None:
        raise AuthError(
            "SUBJECT_CREDENTIAL_MISSING", f"a subject's request carries its credential in {HEADER_CREDENTIAL}"
        )
    credential = parse_credential_header(header)
    subject = await run_in_threadpool(_checked, gateway, credential)
    if signed.address != subject.key:
        raise AuthError("SUBJECT_KEY_MISMATCH", "the request is not signed by the key the credential binds")
    await run_in_threadpool(gateway.nonces.use, signed.address, signed.nonce, signed.timestamp)
    return subject


def _checked(gateway: Gateway, credential: SignedCredential) -> BoundSubject:
    return check_credential(gateway, credential, gateway.now())


CurrentSubject = Annotated[BoundSubject, Depends(current_subject)]
