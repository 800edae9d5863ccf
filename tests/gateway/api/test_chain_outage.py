"""Roles fail closed (issue 16, point 9): while the chain cannot be reached, a gateway answers
authenticated requests from its role cache only up to `roles_max_age_s`, then 503
CHAIN_UNAVAILABLE, so a member suspended during the outage cannot go on acting on a stale cache.

The gateway reaches an embedded chain, served over JSON-RPC, through a node that can be cut
off (tests/support/rpc_tampering.py); the governors suspend the member on the chain itself,
which the gateway cannot see while cut off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from chain_client import Chain, Role, attach_stack, devnet_for
from chain_client.dev import DevChain
from credit_cli.chain_server import serve_chain_in_thread
from credit_client.client import GatewayClientError
from gateway.infra.settings import Settings
from gateway.serving import serve_app_in_thread
from tests.support.rpc_tampering import Link, severable_node
from tests.support.served import Served, serve_gateway, wait_until
from tests.support.subjects import new_uscc

MEMBER = "samr-tianjin"
MAX_AGE_S = 1.0


@pytest.fixture
def chain_url() -> Iterator[str]:
    """An embedded chain served over JSON-RPC on loopback."""
    server = serve_chain_in_thread(DevChain.embedded(), port=0)
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def severable_gateway(chain_url: str, data_dir: Path) -> Iterator[tuple[Link, Served]]:
    """A gateway reaching the chain through a link the test can cut, its caches bound by MAX_AGE_S."""
    link = Link()
    with serve_app_in_thread(severable_node(chain_url, link)) as node:
        settings = Settings(
            data_dir=data_dir,
            rpc_url=node.url,
            chain_poll_interval_s=0.2,
            roles_max_age_s=MAX_AGE_S,
            start_worker=False,
        )
        with serve_gateway(settings) as served:
            yield link, served


def answers(served: Served, label: str) -> str:
    """ "ok" when the member's signed request is served, else the refusal's code."""
    try:
        with served.client(label) as client:
            client.measures(new_uscc())
    except GatewayClientError as exc:
        return exc.code
    return "ok"


def test_a_member_suspended_during_an_outage_is_refused_once_the_roles_are_too_old(
    chain_url: str, tmp_path: Path
) -> None:
    """Cut off from the chain, the gateway serves a member suspended meanwhile only until its role
    cache is roles_max_age_s old, then 503 CHAIN_UNAVAILABLE; back on the chain, 403 AUTH_NOT_MEMBER."""
    with severable_gateway(chain_url, tmp_path) as (link, served):
        assert answers(served, MEMBER) == "ok"
        direct: Chain = DevChain.connect(chain_url)
        stack = attach_stack(direct, served.gateway.stack.record)
        devnet = devnet_for(direct.chain_id)
        governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: stack.consortium.threshold()]
        member = devnet.by_label(MEMBER).account.address

        link.cut = True
        stack.consortium.govern(governors, stack.consortium.suspend_call(member))
        assert not stack.consortium.member(member).active
        wait_until(lambda: answers(served, MEMBER) == "CHAIN_UNAVAILABLE", timeout=MAX_AGE_S + 20, what="503")
        assert served.gateway.view.roles_last_seen(member)  # refused for staleness: the cache never saw it
        assert served.gateway.view.age_s() > MAX_AGE_S
        assert answers(served, "governor-beijing") == "CHAIN_UNAVAILABLE"  # every member alike

        link.cut = False
        wait_until(lambda: answers(served, MEMBER) == "AUTH_NOT_MEMBER", timeout=20, what="the suspension seen")
        assert answers(served, "governor-beijing") == "ok"


def test_the_role_cache_bound_must_outlive_a_poll(tmp_path: Path) -> None:
    """A bound no longer than the poll interval is refused: every request would wait on the chain."""
    with pytest.raises(ValidationError, match="roles_max_age_s"):
        Settings(data_dir=tmp_path, chain_poll_interval_s=2.0, roles_max_age_s=2.0)


def public_answer(served: Served, subject: str) -> str:
    """ "ok" when the public lookup (no signature, no role cache) is served, else the refusal's code."""
    try:
        with served.client() as anonymous:
            anonymous.disclosures(subject)
    except GatewayClientError as exc:
        return exc.code
    return "ok"


def test_answers_from_the_chain_state_index_fail_closed_once_it_is_too_old(chain_url: str, tmp_path: Path) -> None:
    """Cut off from the chain, the index is not advanced: public answers, which depend on records'
    states but on no member's roles, are served until the index's last pass is roles_max_age_s old,
    then 503 CHAIN_UNAVAILABLE; /readyz shows the index's block and age; back on the chain, served again."""
    subject = new_uscc()
    with severable_gateway(chain_url, tmp_path) as (link, served):
        assert public_answer(served, subject) == "ok"
        with httpx.Client(base_url=served.url) as ops:
            index = ops.get("/readyz").json()["index"]
            assert index["follower"] is True
            assert index["block"] >= 0
            link.cut = True
            wait_until(lambda: public_answer(served, subject) == "CHAIN_UNAVAILABLE", timeout=MAX_AGE_S + 20)
            stale = ops.get("/readyz").json()["index"]
            assert stale["ageSeconds"] > MAX_AGE_S
            assert "credit_ledger_index_follower 1.0" in ops.get("/metrics").text
            link.cut = False
            wait_until(lambda: public_answer(served, subject) == "ok", timeout=20, what="served again")
            assert ops.get("/readyz").json()["index"]["ageSeconds"] <= MAX_AGE_S + 1
