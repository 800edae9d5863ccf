"""Signed requests: EIP-191 over method, path, query, body hash, timestamp and nonce."""

from __future__ import annotations

import pytest
from eth_account import Account

from gateway.infra.request_auth import (
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    RequestAuthError,
    canonical_query,
    sign_request,
    verify_request,
)

NOW = 1_763_900_000
BODY = b'{"records": []}'
QUERY = [("subject", "91110108MA01ABCD2X"), ("limit", "10")]


def _signed(**overrides: object) -> dict[str, str]:
    account = overrides.pop("account", Account.from_key(b"\x01" * 32))
    return sign_request(account, "POST", "/v1/records", QUERY, BODY, timestamp=NOW, **overrides)  # type: ignore[arg-type]


def test_a_signed_request_verifies_to_its_signer() -> None:
    """The server recovers the member's address, timestamp and nonce."""
    account = Account.create()
    headers = _signed(account=account)
    signed = verify_request(headers, "POST", "/v1/records", list(reversed(QUERY)), BODY, now=NOW + 10)
    assert signed.address == account.address
    assert (signed.timestamp, signed.nonce) == (NOW, headers[HEADER_NONCE])


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "/v1/records", QUERY, BODY),
        ("POST", "/v1/consents", QUERY, BODY),
        ("POST", "/v1/records", [("subject", "91110108MA01ABCD2X"), ("limit", "11")], BODY),
        ("POST", "/v1/records", QUERY, BODY + b" "),
    ],
    ids=["method", "path", "query", "body"],
)
def test_any_change_to_the_request_breaks_the_signature(
    method: str, path: str, query: list[tuple[str, str]], body: bytes
) -> None:
    """Another method, path, query or body fails with AUTH_BAD_SIGNATURE."""
    with pytest.raises(RequestAuthError) as caught:
        verify_request(_signed(), method, path, query, body, now=NOW)
    assert caught.value.code == "AUTH_BAD_SIGNATURE"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"drop": HEADER_SIGNATURE}, "AUTH_MISSING"),
        ({HEADER_TIMESTAMP: "soon"}, "AUTH_MALFORMED"),
        ({HEADER_SIGNATURE: "0x1234"}, "AUTH_MALFORMED"),
        ({HEADER_NONCE: "short"}, "AUTH_BAD_NONCE"),
        ({HEADER_TIMESTAMP: str(NOW - 301)}, "AUTH_STALE"),
        ({HEADER_TIMESTAMP: str(NOW + 1)}, "AUTH_BAD_SIGNATURE"),
        ({HEADER_NONCE: "a-different-nonce-123"}, "AUTH_BAD_SIGNATURE"),
    ],
)
def test_bad_headers_are_refused_with_stable_codes(change: dict[str, str], code: str) -> None:
    """Missing, malformed, stale or altered headers each get their own code."""
    headers = _signed()
    if "drop" in change:
        del headers[change["drop"]]
    else:
        headers.update(change)
    with pytest.raises(RequestAuthError) as caught:
        verify_request(headers, "POST", "/v1/records", QUERY, BODY, now=NOW)
    assert caught.value.code == code


def test_header_names_are_case_insensitive() -> None:
    """HTTP lowercases header names on the way; verification does not care."""
    headers = {k.lower(): v for k, v in _signed().items()}
    verify_request(headers, "POST", "/v1/records", QUERY, BODY, now=NOW)


def test_canonical_query_sorts_and_encodes() -> None:
    """Pairs are sorted by key then value and percent-encoded, so order and encoding never matter."""
    assert canonical_query([("b", "2"), ("a", "x y"), ("a", "中")]) == "a=x%20y&a=%E4%B8%AD&b=2"
