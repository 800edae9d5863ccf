"""Signed requests over HTTP: missing, stale, replayed, forged and non-member requests, and suspensions."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from eth_account import Account
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain_client import devnet_for
from credit_client.client import GatewayClient
from gateway.api.deps import current_member
from gateway.api.main import create_app
from gateway.api.signed import SignedRoute
from gateway.api.subject_auth import SubjectRoute, current_subject
from gateway.infra.request_auth import sign_request
from gateway.infra.storage import SubjectLookup
from gateway.infra.subject_ids import parse_subject
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import Served, wait_until
from tests.support.subjects import new_uscc

PATH = "/v1/subjects/{subject}/records"
COPIES = 12  # copies of one signed read sent at once


def get(served: Served, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(served.url + path, headers=headers)


def test_an_unsigned_request_gets_401_auth_missing(served: Served) -> None:
    """No X-CL-* headers: 401 AUTH_MISSING."""
    response = get(served, PATH.format(subject=new_uscc()), {})
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_MISSING")


def test_a_request_outside_the_time_window_gets_401_auth_stale(served: Served) -> None:
    """A timestamp older than the window is refused."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(
        served.account(SAMR), "GET", path, [], b"", audience=served.gateway.audience, timestamp=int(time.time()) - 3600
    )
    response = get(served, path, headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_STALE")


def test_a_replayed_request_gets_401_auth_replayed(served: Served) -> None:
    """The same signed request twice: the second is a replay."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(
        served.account(SAMR), "GET", path, [], b"", audience=served.gateway.audience, timestamp=int(time.time())
    )
    assert get(served, path, headers).status_code == 200
    response = get(served, path, headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_REPLAYED")


def test_a_signature_over_another_path_gets_401_auth_bad_signature(served: Served) -> None:
    """A signature made for one path does not authenticate another."""
    headers = sign_request(
        served.account(SAMR),
        "GET",
        PATH.format(subject=new_uscc()),
        [],
        b"",
        audience=served.gateway.audience,
        timestamp=int(time.time()),
    )
    response = get(served, PATH.format(subject=new_uscc()), headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_BAD_SIGNATURE")


@pytest.mark.parametrize("escaped", ["%09", "%0A", "%0D"])
def test_a_signature_covers_the_exact_path_served(served: Served, escaped: str) -> None:
    """Characters a URL normaliser drops (tab, newlines) still change the path: the signature fails."""
    subject = new_uscc()
    headers = sign_request(
        served.account(SAMR),
        "GET",
        PATH.format(subject=subject),
        [],
        b"",
        audience=served.gateway.audience,
        timestamp=int(time.time()),
    )
    sent = PATH.format(subject=subject[:10] + escaped + subject[10:])
    response = get(served, sent, headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_BAD_SIGNATURE")


def test_a_changed_query_fails_the_signature(served: Served) -> None:
    """The query is signed: changing the purpose after signing is refused."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(
        served.account(SAMR),
        "GET",
        path,
        [("purpose", "a")],
        b"",
        audience=served.gateway.audience,
        timestamp=int(time.time()),
    )
    response = get(served, path + "?purpose=b", headers)
    assert response.json()["code"] == "AUTH_BAD_SIGNATURE"


def test_a_key_that_is_not_a_member_gets_403_auth_not_member(served: Served) -> None:
    """A valid signature by an unknown key is authenticated but not a member."""
    with GatewayClient(served.url, Account.create()) as client:
        response = client.request("GET", PATH.format(subject=new_uscc()))
    assert (response.status_code, response.json()["code"]) == (403, "AUTH_NOT_MEMBER")


def test_a_suspension_on_chain_takes_effect_within_one_poll(served: Served) -> None:
    """Suspending a department on chain refuses its requests after the next event poll; reinstating restores them."""
    stack = served.gateway.stack
    governors = [d.account for d in devnet_for(stack.chain.chain_id).accounts if d.label.startswith("governor")]
    department = served.account(SAMR)
    subject = new_uscc()
    with served.client(SAMR) as client:
        assert client.request("GET", PATH.format(subject=subject)).status_code == 200
        stack.consortium.govern(governors[:2], stack.consortium.suspend_call(department.address))
        try:
            interval = served.gateway.settings.chain_poll_interval_s
            wait_until(
                lambda: client.request("GET", PATH.format(subject=subject)).status_code == 403,
                timeout=interval * 5 + 5,
                what="the suspension to take effect",
            )
            response = client.request("GET", PATH.format(subject=subject))
            assert response.json()["code"] == "AUTH_NOT_MEMBER"
            record = served.prepare(SAMR, PENALTY, new_uscc(), penalty())
            refused = client.request("POST", "/v1/records", body=record.submission)
            assert refused.json()["code"] == "AUTH_NOT_MEMBER"
        finally:
            stack.consortium.govern(governors[:2], stack.consortium.reinstate_call(department.address))
        wait_until(
            lambda: client.request("GET", PATH.format(subject=subject)).status_code == 200,
            timeout=interval * 5 + 5,
            what="the reinstatement to take effect",
        )


@pytest.mark.parametrize("nonce", ["short", "has spaces in it!!", "x" * 65])
def test_a_malformed_nonce_gets_auth_bad_nonce(served: Served, nonce: str) -> None:
    """Nonces are 16 to 64 URL-safe characters."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(
        served.account(SAMR),
        "GET",
        path,
        [],
        b"",
        audience=served.gateway.audience,
        timestamp=int(time.time()),
        nonce=nonce,
    )
    response = get(served, path, headers)
    assert response.json()["code"] == "AUTH_BAD_NONCE"


# --------------------------------------------------- issue 16: bounded before authenticated, one value per key


def _raw_exchange(served: Served, head: str, first_part: bytes, *, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """Send a request head and only the start of its body over a raw socket; the status and JSON the
    gateway answers without the rest (a socket timeout if it waited for the body)."""
    url = urlsplit(served.url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as connection:
        connection.sendall(head.encode() + first_part)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < _length(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    status_line, rest = received.split(b"\r\n", 1)
    return int(status_line.split()[1]), json.loads(rest.split(b"\r\n\r\n", 1)[1])


def _length(received: bytes) -> int:
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    match = re.search(r"content-length: (\d+)", head)
    return int(match.group(1)) if match else 0


def _head(path: str, headers: dict[str, str], *, length: int | None) -> str:
    framing = {"Content-Length": str(length)} if length is not None else {"Transfer-Encoding": "chunked"}
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        *(f"{k}: {v}" for k, v in {**headers, **framing}.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_stranger_s_large_upload_is_refused_before_its_body_is_read(served: Served, framing: str) -> None:
    """Finding 9. A 100 MiB POST with a garbage signature is answered 401 from its headers, while the body has
    not even been sent: the gateway never buffers or hashes an unauthenticated body."""
    garbage = sign_request(
        Account.create(), "POST", "/v1/records", [], b"{}", audience=served.gateway.audience, timestamp=int(time.time())
    )
    garbage["X-CL-Address"] = served.account(SAMR).address  # claims a member; the signature is not its
    length = 100 * 1024 * 1024 if framing == "content-length" else None
    first = b"{" if length is not None else b"1\r\n{\r\n"
    status, answer = _raw_exchange(served, _head("/v1/records", garbage, length=length), first)
    assert (status, answer["code"]) == (401, "AUTH_BAD_SIGNATURE")


def test_a_member_s_body_is_limited_per_endpoint_and_must_be_the_one_signed(served: Served) -> None:
    """A consent takes at most 64 KiB (413 before reading, from its Content-Length), a bulk of records far more;
    a body other than the signed one is AUTH_BODY_MISMATCH."""
    member = served.account(SAMR)
    big = json.dumps({"padding": "x" * 100_000}).encode()
    signed = sign_request(
        member, "POST", "/v1/consents", [], big, audience=served.gateway.audience, timestamp=int(time.time())
    )
    status, answer = _raw_exchange(served, _head("/v1/consents", signed, length=len(big)), b"{")
    assert (status, answer["code"]) == (413, "BODY_TOO_LARGE")
    signed = sign_request(
        member, "POST", "/v1/records", [], big, audience=served.gateway.audience, timestamp=int(time.time())
    )
    response = httpx.post(
        served.url + "/v1/records", content=big, headers={**signed, "content-type": "application/json"}
    )
    assert response.json()["code"] == "RECORD_MALFORMED"  # read in full and parsed: not a record, not too large
    other = json.dumps({"padding": "y" * 100_000}).encode()
    signed = sign_request(
        member, "POST", "/v1/records", [], big, audience=served.gateway.audience, timestamp=int(time.time())
    )
    response = httpx.post(
        served.url + "/v1/records", content=other, headers={**signed, "content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_BODY_MISMATCH")


def test_a_repeated_query_key_is_refused(served: Served) -> None:
    """Finding 12. purpose=a&purpose=b is refused (400 QUERY_KEY_REPEATED), never read as one of them."""
    path = PATH.format(subject=new_uscc())
    url = f"{served.url}{path}?purpose=a&purpose=b"
    with GatewayClient(served.url) as public:
        audience = public.audience
    headers = {
        "X-CL-Address": served.account(SAMR).address,
        "X-CL-Audience": str(audience),
        "X-CL-Content-SHA256": hashlib.sha256(b"").hexdigest(),
        "X-CL-Timestamp": str(int(time.time())),
        "X-CL-Nonce": "repeated-keys-nonce-0001",
        "X-CL-Signature": "0x" + "11" * 65,
    }
    response = httpx.get(url, headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "QUERY_KEY_REPEATED")


def test_every_route_that_names_a_member_authenticates_before_its_body(served: Served) -> None:
    """Each route depending on the signed-in member is a SignedRoute, so none reads a body before the signer."""
    app = create_app(served.gateway)
    for route in app.routes:
        if isinstance(route, APIRoute) and _depends_on(route.dependant, current_member):
            assert isinstance(route, SignedRoute), route.path
            assert not isinstance(route, SubjectRoute), route.path
        if isinstance(route, APIRoute) and _depends_on(route.dependant, current_subject):
            assert isinstance(route, SubjectRoute), route.path


def _depends_on(dependant: Any, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def test_one_signed_measures_read_sent_at_once_is_answered_and_registered_once(served: Served) -> None:
    """A GET that registers its query records its nonce in the registration's commit: copies of
    one signed read sent at once give one answer and one registered query; the others are
    AUTH_REPLAYED and register nothing."""
    subject = new_uscc()
    path = f"/v1/subjects/{subject}/measures"
    query = [("scope", "region")]
    headers = sign_request(
        served.account(SAMR), "GET", path, query, b"", audience=served.gateway.audience, timestamp=int(time.time())
    )
    with httpx.Client(timeout=60) as http, ThreadPoolExecutor(COPIES) as pool:
        answers = list(
            pool.map(lambda _: http.get(served.url + path + "?scope=region", headers=headers), range(COPIES))
        )
    codes = sorted(a.json().get("code", "ok") if a.status_code != 200 else "ok" for a in answers)
    assert codes == ["AUTH_REPLAYED"] * (COPIES - 1) + ["ok"]
    with Session(served.gateway.engine) as session:
        ref = served.gateway.subject_ref(parse_subject(subject))
        registered = session.scalar(
            select(func.count()).select_from(SubjectLookup).where(SubjectLookup.subject_ref == ref)
        )
    assert registered == 1
