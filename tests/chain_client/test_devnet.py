"""The demo consortium's development-only keys."""

from __future__ import annotations

import pytest

from chain_client import DevKeyRefusedError, Role, devnet_for
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID, HARDHAT_CHAIN_ID


@pytest.mark.parametrize("chain_id", [1, 11155111, 1337_0001])
def test_dev_keys_are_refused_on_other_chains(chain_id: int) -> None:
    """The public development keys are never handed out for a chain that is not for development."""
    with pytest.raises(DevKeyRefusedError, match="not a development chain"):
        devnet_for(chain_id)


@pytest.mark.parametrize("chain_id", [EMBEDDED_CHAIN_ID, HARDHAT_CHAIN_ID])
def test_dev_keys_cover_the_demo_consortium(chain_id: int) -> None:
    """The demo consortium has three regional governors, three gateways, departments and an auditor."""
    devnet = devnet_for(chain_id)
    assert {d.region for d in devnet.with_role(Role.GOVERNOR)} == {110000, 120000, 130000}
    assert len(devnet.with_role(Role.GATEWAY)) == 3
    assert len(devnet.with_role(Role.PROVIDER)) >= 3
    assert len(devnet.with_role(Role.AUDITOR)) == 1
    assert devnet.threshold == 2
