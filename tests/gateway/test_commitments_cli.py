"""`credit-ledger commitments overdue` against a Hardhat node, reading the chain alone."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from chain_client import (
    CommitmentKind,
    CommitmentSpec,
    CommitmentTerm,
    Term,
    TermUnit,
    attach_stack,
    devnet_for,
    load_deployment,
)
from chain_client.dev import DevChain
from credit_cli.main import main
from tests.support.hardhat import HardhatNode


@pytest.mark.hardhat
def test_overdue_lists_pending_commitments_past_their_deadline(hardhat_node: HardhatNode, tmp_path: Path) -> None:
    deployed = CliRunner().invoke(main, ["deploy", "--rpc", hardhat_node.url, "--deployments", str(tmp_path)])
    assert deployed.exit_code == 0, deployed.output
    chain = DevChain.connect(hardhat_node.url)
    snapshot = chain.snapshot()
    try:
        stack = attach_stack(chain, load_deployment(tmp_path, chain.chain_id))
        department = devnet_for(chain.chain_id).by_label("samr-beijing").account
        term = CommitmentTerm(dt.date(2031, 1, 2), Term(TermUnit.MONTHS, 1))  # the registry does not count it
        soon, later = (
            CommitmentSpec(
                os.urandom(32), CommitmentKind.INCOMPLETE_ACCEPTANCE, os.urandom(32), chain.now() + 3600 * h, term
            )
            for h in (1, 48)
        )
        soon_id, _ = stack.commitments.record(department, soon)
        stack.commitments.record(department, later)
        args = ["commitments", "overdue", "--rpc", hardhat_node.url, "--deployments", str(tmp_path)]

        none_yet = CliRunner().invoke(main, args)
        assert (none_yet.exit_code, none_yet.output.strip()) == (0, "0 overdue")

        chain.increase_time(2 * 3600)
        listed = CliRunner().invoke(main, [*args, "--json"])
        assert listed.exit_code == 1
        (row,) = json.loads(listed.output)
        assert (row["commitmentId"], row["status"], row["overdue"]) == ("0x" + soon_id.hex(), "PENDING", True)
        assert row["department"] == department.address

        stack.commitments.fulfil(department, soon_id)
        assert CliRunner().invoke(main, args).exit_code == 0
        other = CliRunner().invoke(
            main, [*args, "--department", devnet_for(chain.chain_id).by_label("tax-beijing").account.address]
        )
        assert other.exit_code == 0
    finally:
        chain.revert_to(snapshot)


def test_overdue_without_a_node_exits_2(tmp_path: Path) -> None:
    from tests.support.hardhat import free_port

    result = CliRunner().invoke(
        main, ["commitments", "overdue", "--rpc", f"http://127.0.0.1:{free_port()}", "--deployments", str(tmp_path)]
    )
    assert result.exit_code == 2
