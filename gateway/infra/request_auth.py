"""Signed requests: a member signs each request with its chain key (EIP-191).

The signed text binds the method, the path, the query (sorted), the SHA-256 of the
body, a timestamp and a nonce:

    credit-ledger-request@1
    POST
    /v1/records
    limit=10&subject=91110108MA01ABCD2X
    <sha256 hex of the body>
    <unix seconds>
    <nonce>

and travels in four headers. The server refuses a timestamp outside its window and a
nonce it has seen (the nonce store is the server's); the roles of the recovered address
come from the chain.
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
from gateway.infra.errors import AuthError

SCHEME = "credit-ledger-request@1"
HEADER_ADDRESS = "X-CL-Address"
HEADER_TIMESTAMP = "X-CL-Timestamp"
HEADER_NONCE = "X-CL-Nonce"
HEADER_SIGNATURE = "X-CL-Signature"
DEFAULT_WINDOW_S = 300
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")


class RequestAuthError(AuthError):
    """A request's signature headers are missing, stale, malformed or do not verify."""


@dataclass(frozen=True)
class SignedRequest:
    """Who signed a request, and the nonce and time it was signed with."""

    address: ChecksumAddress
    timestamp: int
    nonce: str


def canonical_query(items: Iterable[tuple[str, str]]) -> str:
    """The query as signed: percent-encoded pairs sorted by key, then value."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(items))


def canonical_request(method: str, path: str, query: str, body: bytes, timestamp: int, nonce: str) -> str:
    """The text a member signs for one request."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join([SCHEME, method.upper(), path, query, body_hash, str(timestamp), nonce])


def sign_request(
    account: LocalAccount,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    *,
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that authenticate a request as account."""
    nonce = nonce or secrets.token_urlsafe(24)
    text = canonical_request(method, path, canonical_query(query), body, timestamp, nonce)
    signature = sign_digest(account, _personal_digest(text))
    return {
        HEADER_ADDRESS: account.address,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: "0x" + signature.hex(),
    }


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    *,
    now: int,
    window_s: int = DEFAULT_WINDOW_S,
) -> SignedRequest:
    """The verified signer of a request; RequestAuthError with a stable code otherwise.

    Checking that the nonce is new is left to the caller, who owns the nonce store.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    values = [lowered.get(h.lower()) for h in (HEADER_ADDRESS, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)]
    if any(v is None for v in values):
        raise RequestAuthError("AUTH_MISSING", "the request is not signed: X-CL-* headers are missing")
    address, timestamp_text, nonce, signature = (str(v) for v in values)
    if not _ADDRESS.match(address) or not _SIGNATURE.match(signature) or not timestamp_text.isdigit():
        raise RequestAuthError("AUTH_MALFORMED", "malformed X-CL-Address, X-CL-Timestamp or X-CL-Signature")
    if not _NONCE.match(nonce):
        raise RequestAuthError("AUTH_BAD_NONCE", "X-CL-Nonce must be 16 to 64 characters of [A-Za-z0-9_-]")
    timestamp = int(timestamp_text)
    if abs(now - timestamp) > window_s:
        raise RequestAuthError("AUTH_STALE", f"the request time is outside the {window_s} s window")
    text = canonical_request(method, path, canonical_query(query), body, timestamp, nonce)
    signer = recover_address(_personal_digest(text), bytes.fromhex(signature[2:]))
    if signer is None or signer != bytes.fromhex(address[2:]):
        raise RequestAuthError("AUTH_BAD_SIGNATURE", "the signature does not match the request and address")
    return SignedRequest(to_checksum_address(address), timestamp, nonce)


def _personal_digest(text: str) -> bytes:
    message = text.encode()
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)
