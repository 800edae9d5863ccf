"""Shared fixtures: the chains the tests run on, and the demo consortium deployed there.

Every chain test runs twice, on the embedded py-evm chain and on a real Hardhat node
started from hardhat-local. Without hardhat-local installed the Hardhat half is
skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from chain_client import Chain, Devnet, Role, Stack, catalog_id, deploy_demo_stack, devnet_for
from chain_client.dev import DevChain
from tests.chain_client.conftest import PENALTY_CODE, govern, penalty_spec
from tests.support.hardhat import HardhatNode, start_node

BACKENDS = ["embedded", "hardhat"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "hardhat" in callspec.params.values():
            item.add_marker(pytest.mark.hardhat)


@pytest.fixture(scope="session")
def hardhat_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HardhatNode]:
    """A Hardhat node for the whole session, stopped at the end."""
    node = start_node(tmp_path_factory.mktemp("hardhat") / "node.log")
    yield node
    node.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def session_chain(request: pytest.FixtureRequest) -> Chain:
    """One chain per backend for the session; tests get it through `chain`."""
    if request.param == "embedded":
        return DevChain.embedded()
    node: HardhatNode = request.getfixturevalue("hardhat_node")
    return DevChain.connect(node.url)


@pytest.fixture(scope="session")
def deployed(session_chain: Chain) -> Stack:
    """The demo consortium deployed once per backend."""
    return deploy_demo_stack(session_chain)


@pytest.fixture
def stack(deployed: Stack) -> Iterator[Stack]:
    """The deployed demo consortium; whatever a test changes is rolled back after it."""
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert_to(snapshot)


@pytest.fixture
def chain(stack: Stack) -> Chain:
    """The chain under test, rolled back after the test."""
    return stack.chain


@pytest.fixture
def devnet(chain: Chain) -> Devnet:
    """The demo consortium's development accounts."""
    return devnet_for(chain.chain_id)


@pytest.fixture
def repo_root() -> Path:
    """The checkout under test."""
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def governors(devnet: Devnet) -> list[LocalAccount]:
    return [d.account for d in devnet.with_role(Role.GOVERNOR)]


@pytest.fixture
def provider(devnet: Devnet) -> LocalAccount:
    """Beijing market regulation, the source of the penalty entry."""
    return devnet.by_label("samr-beijing").account


@pytest.fixture
def other_provider(devnet: Devnet) -> LocalAccount:
    """Beijing tax bureau: a provider, but not of the penalty entry's records."""
    return devnet.by_label("tax-beijing").account


@pytest.fixture
def gateway(devnet: Devnet) -> LocalAccount:
    return devnet.by_label("gateway-beijing").account


@pytest.fixture
def auditor(devnet: Devnet) -> LocalAccount:
    return devnet.by_label("auditor-hebei").account


@pytest.fixture
def penalty_entry(stack: Stack, governors: list[LocalAccount], provider: LocalAccount) -> bytes:
    """A class-A black-list entry sourced by Beijing market regulation; its catalogId."""
    govern(stack.consortium, governors, stack.catalog.create_call(penalty_spec(provider.address)))
    return catalog_id(PENALTY_CODE)
