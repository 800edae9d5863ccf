"""Signed requests: a member signs each request with its chain key (EIP-191).

The signed text binds the audience (the chain and the gateway the request is for, as a
CAIP-10 account id), the method, the path, the query (sorted; a repeated key is refused),
the SHA-256 of the body, a timestamp and a nonce:

    credit-ledger-request@2
    eip155:31337:0x5B38Da6a701c568545dCfcB03FcB875f56beddC4
    POST
    /v1/records
    limit=10&subject=91110108MA01ABCD2X
    <sha256 hex of the body>
    <unix seconds>
    <nonce>

and travels in six headers. The body's hash has a header of its own, so the signature,
the window and the audience are checked before the body is read; the body is then hashed
as it streams and must match (`check_body`). The server refuses a nonce it has seen (the
nonce store is the server's); the roles of the recovered address come from the chain.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from chain_client import keccak, recover_address, sign_digest
from gateway.infra.errors import AuthError, InputError

SCHEME = "credit-ledger-request@2"
HEADER_ADDRESS = "X-CL-Address"
HEADER_AUDIENCE = "X-CL-Audience"
HEADER_CONTENT_SHA256 = "X-CL-Content-SHA256"
HEADER_TIMESTAMP = "X-CL-Timestamp"
HEADER_NONCE = "X-CL-Nonce"
HEADER_SIGNATURE = "X-CL-Signature"
SIGNATURE_HEADERS = (
    HEADER_ADDRESS,
    HEADER_AUDIENCE,
    HEADER_CONTENT_SHA256,
    HEADER_TIMESTAMP,
    HEADER_NONCE,
    HEADER_SIGNATURE,
)
DEFAULT_WINDOW_S = 300
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_AUDIENCE = re.compile(r"^eip155:([1-9][0-9]{0,19}):(0x[0-9a-fA-F]{40})$")


class RequestAuthError(AuthError):
    """A request's signature headers are missing, stale, malformed or do not verify."""


@dataclass(frozen=True)
class Audience:
    """Who a request is for: a gateway's account on one chain (CAIP-10 `eip155:<chainId>:<address>`)."""

    chain_id: int
    gateway: ChecksumAddress

    def __str__(self) -> str:
        return f"eip155:{self.chain_id}:{self.gateway}"

    @classmethod
    def parse(cls, text: str) -> Audience:
        """The audience a CAIP-10 account id names; ValueError when it is not one."""
        match = _AUDIENCE.match(text)
        if match is None:
            raise ValueError(f"not a CAIP-10 eip155 account id: {text!r}")
        return cls(int(match.group(1)), to_checksum_address(match.group(2)))


@dataclass(frozen=True)
class SignedRequest:
    """Who signed a request, for whom, and the body hash, nonce and time it was signed with."""

    address: ChecksumAddress
    audience: Audience
    content_sha256: str
    timestamp: int
    nonce: str

    def check_body(self, body_sha256: str) -> None:
        """AUTH_BODY_MISMATCH unless the body that came is the one signed."""
        if body_sha256 != self.content_sha256:
            raise RequestAuthError("AUTH_BODY_MISMATCH", "the body is not the one the signature covers")


def canonical_query(items: Iterable[tuple[str, str]]) -> str:
    """The query as signed: percent-encoded pairs sorted by key; QUERY_KEY_REPEATED for a key given twice.

    A repeated key is refused rather than signed, because the framework reads one of its
    values and the signature would cover the others too.
    """
    pairs = list(items)
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        raise InputError("QUERY_KEY_REPEATED", "a query key is given more than once", detail={"keys": repeated})
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(pairs))


def canonical_request(
    audience: Audience, method: str, path: str, query: str, body_sha256: str, timestamp: int, nonce: str
) -> str:
    """The text a member signs for one request."""
    return "\n".join([SCHEME, str(audience), method.upper(), path, query, body_sha256, str(timestamp), nonce])


def sign_request(
    account: LocalAccount,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    *,
    audience: Audience,
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that authenticate a request as account, for one gateway of one chain."""
    nonce = nonce or secrets.token_urlsafe(24)
    body_sha256 = hashlib.sha256(body).hexdigest()
    text = canonical_request(audience, method, path, canonical_query(query), body_sha256, timestamp, nonce)
    signature = sign_digest(account, _personal_digest(text))
    return {
        HEADER_ADDRESS: account.address,
        HEADER_AUDIENCE: str(audience),
        HEADER_CONTENT_SHA256: body_sha256,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: "0x" + signature.hex(),
    }


def verify_signed_headers(
    headers: Mapping[str, str],
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    *,
    audience: Audience,
    now: int,
    window_s: int = DEFAULT_WINDOW_S,
) -> SignedRequest:
    """The verified signer of a request whose body is still to come; RequestAuthError otherwise.

    Everything but the body is checked here, so a large body is read only for a verified
    signer: the caller hashes the body as it arrives and calls `check_body`. Checking that
    the nonce is new is left to the caller, who owns the nonce store.
    """
    query_text = canonical_query(query)  # a repeated key is refused first, signed or not
    lowered = {k.lower(): v for k, v in headers.items()}
    values = [lowered.get(h.lower()) for h in SIGNATURE_HEADERS]
    if any(v is None for v in values):
        raise RequestAuthError("AUTH_MISSING", "the request is not signed: X-CL-* headers are missing")
    address, audience_text, content_sha256, timestamp_text, nonce, signature = (str(v) for v in values)
    if (
        not _ADDRESS.match(address)
        or not _SIGNATURE.match(signature)
        or not timestamp_text.isdigit()
        or not _SHA256.match(content_sha256)
    ):
        raise RequestAuthError(
            "AUTH_MALFORMED", "malformed X-CL-Address, X-CL-Content-SHA256, X-CL-Timestamp or X-CL-Signature"
        )
    try:
        signed_for = Audience.parse(audience_text)
    except ValueError:
        raise RequestAuthError("AUTH_MALFORMED", "X-CL-Audience is not eip155:<chainId>:<address>") from None
    if not _NONCE.match(nonce):
        raise RequestAuthError("AUTH_BAD_NONCE", "X-CL-Nonce must be 16 to 64 characters of [A-Za-z0-9_-]")
    if signed_for != audience:
        raise RequestAuthError(
            "AUTH_WRONG_AUDIENCE",
            f"the request is signed for {signed_for}, not for this gateway ({audience})",
            detail={"audience": str(audience)},
        )
    timestamp = int(timestamp_text)
    if abs(now - timestamp) > window_s:
        raise RequestAuthError("AUTH_STALE", f"the request time is outside the {window_s} s window")
    text = canonical_request(audience, method, path, query_text, content_sha256, timestamp, nonce)
    signer = recover_address(_personal_digest(text), bytes.fromhex(signature[2:]))
    if signer is None or signer != bytes.fromhex(address[2:]):
        raise RequestAuthError("AUTH_BAD_SIGNATURE", "the signature does not match the request and address")
    return SignedRequest(to_checksum_address(address), audience, content_sha256, timestamp, nonce)


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    *,
    audience: Audience,
    now: int,
    window_s: int = DEFAULT_WINDOW_S,
) -> SignedRequest:
    """The verified signer of a request whose body is at hand (see `verify_signed_headers`)."""
    signed = verify_signed_headers(headers, method, path, query, audience=audience, now=now, window_s=window_s)
    signed.check_body(hashlib.sha256(body).hexdigest())
    return signed


def _personal_digest(text: str) -> bytes:
    message = text.encode()
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)
