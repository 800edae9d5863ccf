"""Signed requests: EIP-191 over audience, method, path, query, body hash, timestamp and nonce."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account

from gateway.infra.errors import InputError
from gateway.infra.request_auth import (
    HEADER_AUDIENCE,
    HEADER_CONTENT_SHA256,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Audience,
    RequestAuthError,
    canonical_query,
    sign_request,
    verify_request,
    verify_signed_headers,
)

NOW = 1_763_900_000
BODY = b'{"records": []}'
QUERY = [("subject", "91110108MA01ABCD2X"), ("limit", "10")]
BEIJING = Audience(31337, Account.from_key(b"\x0b" * 32).address)
TIANJIN = Audience(31337, Account.from_key(b"\x0c" * 32).address)


def _signed(**overrides: object) -> dict[str, str]:
    account = overrides.pop("account", Account.from_key(b"\x01" * 32))
    audience = overrides.pop("audience", BEIJING)
    return sign_request(account, "POST", "/v1/records", QUERY, BODY, audience=audience, timestamp=NOW, **overrides)  # type: ignore[arg-type]


def test_a_signed_request_verifies_to_its_signer() -> None:
    """The server recovers the member's address, timestamp and nonce."""
    account = Account.create()
    headers = _signed(account=account)
    signed = verify_request(headers, "POST", "/v1/records", list(reversed(QUERY)), BODY, audience=BEIJING, now=NOW)
    assert signed.address == account.address
    assert (signed.timestamp, signed.nonce, signed.audience) == (NOW, headers[HEADER_NONCE], BEIJING)


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/v1/records", QUERY),
        ("POST", "/v1/consents", QUERY),
        ("POST", "/v1/records", [("subject", "91110108MA01ABCD2X"), ("limit", "11")]),
    ],
    ids=["method", "path", "query"],
)
def test_any_change_to_the_request_breaks_the_signature(method: str, path: str, query: list[tuple[str, str]]) -> None:
    """Another method, path or query fails with AUTH_BAD_SIGNATURE."""
    with pytest.raises(RequestAuthError) as caught:
        verify_request(_signed(), method, path, query, BODY, audience=BEIJING, now=NOW)
    assert caught.value.code == "AUTH_BAD_SIGNATURE"


def test_another_body_than_the_one_signed_is_refused() -> None:
    """The body's hash is signed in X-CL-Content-SHA256: another body is AUTH_BODY_MISMATCH, and
    a changed hash header breaks the signature."""
    with pytest.raises(RequestAuthError) as caught:
        verify_request(_signed(), "POST", "/v1/records", QUERY, BODY + b" ", audience=BEIJING, now=NOW)
    assert caught.value.code == "AUTH_BODY_MISMATCH"
    headers = {**_signed(), HEADER_CONTENT_SHA256: hashlib.sha256(BODY + b" ").hexdigest()}
    with pytest.raises(RequestAuthError) as caught:
        verify_request(headers, "POST", "/v1/records", QUERY, BODY + b" ", audience=BEIJING, now=NOW)
    assert caught.value.code == "AUTH_BAD_SIGNATURE"


def test_the_headers_verify_before_the_body_is_read() -> None:
    """Everything but the body is checked from the headers; the body is compared after, by its hash."""
    signed = verify_signed_headers(_signed(), "POST", "/v1/records", QUERY, audience=BEIJING, now=NOW)
    signed.check_body(hashlib.sha256(BODY).hexdigest())
    with pytest.raises(RequestAuthError):
        signed.check_body(hashlib.sha256(b"another").hexdigest())


def test_a_request_signed_for_one_gateway_is_refused_at_another() -> None:
    """The audience (chain id and gateway account) is signed: Tianjin refuses what Beijing was sent,
    and a changed X-CL-Audience header breaks the signature."""
    with pytest.raises(RequestAuthError) as caught:
        verify_request(_signed(), "POST", "/v1/records", QUERY, BODY, audience=TIANJIN, now=NOW)
    assert (caught.value.code, caught.value.detail) == ("AUTH_WRONG_AUDIENCE", {"audience": str(TIANJIN)})
    other_chain = Audience(1, BEIJING.gateway)
    with pytest.raises(RequestAuthError) as caught:
        verify_request(_signed(), "POST", "/v1/records", QUERY, BODY, audience=other_chain, now=NOW)
    assert caught.value.code == "AUTH_WRONG_AUDIENCE"
    relabelled = {**_signed(), HEADER_AUDIENCE: str(TIANJIN)}
    with pytest.raises(RequestAuthError) as caught:
        verify_request(relabelled, "POST", "/v1/records", QUERY, BODY, audience=TIANJIN, now=NOW)
    assert caught.value.code == "AUTH_BAD_SIGNATURE"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"drop": HEADER_SIGNATURE}, "AUTH_MISSING"),
        ({"drop": HEADER_AUDIENCE}, "AUTH_MISSING"),
        ({"drop": HEADER_CONTENT_SHA256}, "AUTH_MISSING"),
        ({HEADER_TIMESTAMP: "soon"}, "AUTH_MALFORMED"),
        ({HEADER_SIGNATURE: "0x1234"}, "AUTH_MALFORMED"),
        ({HEADER_AUDIENCE: "beijing"}, "AUTH_MALFORMED"),
        ({HEADER_CONTENT_SHA256: "00"}, "AUTH_MALFORMED"),
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
        verify_request(headers, "POST", "/v1/records", QUERY, BODY, audience=BEIJING, now=NOW)
    assert caught.value.code == code


def test_header_names_are_case_insensitive() -> None:
    """HTTP lowercases header names on the way; verification does not care."""
    headers = {k.lower(): v for k, v in _signed().items()}
    verify_request(headers, "POST", "/v1/records", QUERY, BODY, audience=BEIJING, now=NOW)


def test_canonical_query_sorts_and_encodes() -> None:
    """Pairs are sorted by key and percent-encoded, so order and encoding never matter."""
    assert canonical_query([("b", "2"), ("a", "x y"), ("c", "中")]) == "a=x%20y&b=2&c=%E4%B8%AD"


def test_a_repeated_query_key_is_refused_not_signed() -> None:
    """purpose=a&purpose=b: the framework would read one value while the signature covers both."""
    with pytest.raises(InputError) as caught:
        canonical_query([("purpose", "a"), ("purpose", "b")])
    assert (caught.value.code, caught.value.detail) == ("QUERY_KEY_REPEATED", {"keys": ["purpose"]})


def test_the_audience_is_a_caip10_account_id() -> None:
    text = f"eip155:31337:{BEIJING.gateway.lower()}"
    assert Audience.parse(text) == BEIJING
    assert str(BEIJING) == f"eip155:31337:{BEIJING.gateway}"
    for bad in ("eip155:0:" + BEIJING.gateway, "cosmos:1:" + BEIJING.gateway, "eip155:1:0x12"):
        with pytest.raises(ValueError, match="CAIP-10"):
            Audience.parse(bad)
