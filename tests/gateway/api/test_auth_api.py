"""Signed requests over HTTP: missing, stale, replayed, forged and non-member requests, and suspensions."""

from __future__ import annotations

import time

import httpx
import pytest
from eth_account import Account

from chain_client import devnet_for
from credit_client.client import GatewayClient
from gateway.infra.request_auth import sign_request
from tests.support.payloads import PENALTY, SAMR, penalty
from tests.support.served import Served, wait_until
from tests.support.subjects import new_uscc

PATH = "/v1/subjects/{subject}/records"


def get(served: Served, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(served.url + path, headers=headers)


def test_an_unsigned_request_gets_401_auth_missing(served: Served) -> None:
    """No X-CL-* headers: 401 AUTH_MISSING."""
    response = get(served, PATH.format(subject=new_uscc()), {})
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_MISSING")


def test_a_request_outside_the_time_window_gets_401_auth_stale(served: Served) -> None:
    """A timestamp older than the window is refused."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(served.account(SAMR), "GET", path, [], b"", timestamp=int(time.time()) - 3600)
    response = get(served, path, headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_STALE")


def test_a_replayed_request_gets_401_auth_replayed(served: Served) -> None:
    """The same signed request twice: the second is a replay."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(served.account(SAMR), "GET", path, [], b"", timestamp=int(time.time()))
    assert get(served, path, headers).status_code == 200
    response = get(served, path, headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_REPLAYED")


def test_a_signature_over_another_path_gets_401_auth_bad_signature(served: Served) -> None:
    """A signature made for one path does not authenticate another."""
    headers = sign_request(
        served.account(SAMR), "GET", PATH.format(subject=new_uscc()), [], b"", timestamp=int(time.time())
    )
    response = get(served, PATH.format(subject=new_uscc()), headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_BAD_SIGNATURE")


@pytest.mark.parametrize("escaped", ["%09", "%0A", "%0D"])
def test_a_signature_covers_the_exact_path_served(served: Served, escaped: str) -> None:
    """Characters a URL normaliser drops (tab, newlines) still change the path: the signature fails."""
    subject = new_uscc()
    headers = sign_request(
        served.account(SAMR), "GET", PATH.format(subject=subject), [], b"", timestamp=int(time.time())
    )
    sent = PATH.format(subject=subject[:10] + escaped + subject[10:])
    response = get(served, sent, headers)
    assert (response.status_code, response.json()["code"]) == (401, "AUTH_BAD_SIGNATURE")


def test_a_changed_query_fails_the_signature(served: Served) -> None:
    """The query is signed: changing the purpose after signing is refused."""
    path = PATH.format(subject=new_uscc())
    headers = sign_request(served.account(SAMR), "GET", path, [("purpose", "a")], b"", timestamp=int(time.time()))
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
    headers = sign_request(served.account(SAMR), "GET", path, [], b"", timestamp=int(time.time()), nonce=nonce)
    response = get(served, path, headers)
    assert response.json()["code"] == "AUTH_BAD_NONCE"
