"""The `credit-ledger` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chain_client import Role, devnet_for
from chain_client.contracts.chain import EMBEDDED_CHAIN_ID
from credit_cli.main import main
from tests.support.hardhat import HardhatNode, free_port


def test_deploy_prints_the_demo_consortium() -> None:
    """`credit-ledger deploy` deploys on the embedded chain and lists every member with roles."""
    result = CliRunner().invoke(main, ["deploy"])
    assert result.exit_code == 0, result.output
    assert "threshold 2 of 3 governors" in result.output
    for dev in devnet_for(EMBEDDED_CHAIN_ID).accounts:
        line = next(line for line in result.output.splitlines() if dev.account.address in line)
        assert str(dev.region) in line
        assert all(role.value in line for role in dev.roles)


def test_deploy_json_lists_members_and_the_record() -> None:
    """`deploy --json` gives the deployment record and the members for machines."""
    result = CliRunner().invoke(main, ["deploy", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["deployment"]["format"] == "credit-ledger/deployment@1"
    assert document["deployment"]["chainId"] == EMBEDDED_CHAIN_ID
    governors = [m for m in document["members"] if Role.GOVERNOR.value in m["roles"]]
    assert [m["region"] for m in governors] == [110000, 120000, 130000]


def test_deploy_refuses_a_chain_that_lost_the_recorded_deployment(tmp_path: Path) -> None:
    """A recorded deployment on a chain id whose chain no longer holds it is refused with exit 2."""
    first = CliRunner().invoke(main, ["deploy", "--deployments", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert (tmp_path / f"{EMBEDDED_CHAIN_ID}.json").is_file()
    second = CliRunner().invoke(main, ["deploy", "--deployments", str(tmp_path)])
    assert second.exit_code == 2
    assert "refusing this chain" in second.output
    assert "genesis hash" in second.output


@pytest.mark.hardhat
def test_deploy_reuses_the_recorded_deployment_on_the_same_node(hardhat_node: HardhatNode, tmp_path: Path) -> None:
    """On a node that still holds the recorded deployment, deploy attaches to it instead of deploying again."""
    args = ["deploy", "--rpc", hardhat_node.url, "--deployments", str(tmp_path), "--json"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert json.loads(first.output)["deployment"] == json.loads(second.output)["deployment"]


def test_deploy_to_an_unreachable_node_exits_2() -> None:
    """A node that does not answer is a clear error with exit 2."""
    result = CliRunner().invoke(main, ["deploy", "--rpc", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 2
    assert "unreachable" in result.output


def test_gas_json_measures_every_consortium_operation() -> None:
    """`credit-ledger gas --json` prints gas used per contract operation, measured on the embedded chain."""
    result = CliRunner().invoke(main, ["gas", "--json"])
    assert result.exit_code == 0, result.output
    gas = json.loads(result.output)
    actions = ["admit", "suspend", "reinstate", "grantRole", "revokeRole", "setGatewayUrl", "setThreshold"]
    for action in [*actions, "adoptCalendar"]:
        for step in ["propose", "approve", "execute"]:
            assert 21_000 < gas[f"{step}_{action}"] < 500_000
    assert gas["deployConsortium_12members"] > 1_000_000
    assert gas["deployCalendarRegistry"] > 100_000
    for key in ["anchorBatch_1", "anchorBatch_100000", "approveRepair_depth17", "recordCommitment"]:
        assert gas[key] > 21_000
