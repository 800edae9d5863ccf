"""Deployment records and the refusal of a chain that does not hold them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chain_client import (
    DeploymentMismatchError,
    DeploymentRecord,
    Stack,
    attach_stack,
    check_deployment,
    load_deployment,
    save_deployment,
)
from chain_client.dev import DevChain


def test_record_holds_chain_identity_and_code_hashes(stack: Stack) -> None:
    """The record names the chain id, genesis hash and the Consortium's address, block and code hash."""
    record = stack.record
    assert record.chain_id == stack.chain.chain_id
    assert record.genesis_hash == "0x" + stack.chain.genesis_hash.hex()
    consortium = record.contracts["Consortium"]
    assert consortium.address == stack.consortium.address
    assert consortium.block >= 1
    assert consortium.code_hash == "0x" + stack.chain.code_hash(stack.consortium.address).hex()


def test_record_round_trips_through_its_file(stack: Stack, tmp_path: Path) -> None:
    """A saved record loads back equal, from `<chainId>.json`."""
    path = save_deployment(stack.record, tmp_path)
    assert path.name == f"{stack.chain.chain_id}.json"
    assert load_deployment(tmp_path, stack.chain.chain_id) == stack.record


def test_the_recorded_chain_is_accepted(stack: Stack) -> None:
    """check_deployment passes on the chain that holds the deployment, and attach_stack works."""
    check_deployment(stack.chain, stack.record)
    attached = attach_stack(stack.chain, stack.record)
    assert attached.consortium.threshold() == 2


def test_another_chain_is_refused(stack: Stack) -> None:
    """A fresh chain (new genesis, no contract) is refused, naming each mismatch."""
    with pytest.raises(DeploymentMismatchError) as caught:
        check_deployment(DevChain.embedded(), stack.record)
    problems = " ".join(caught.value.problems)
    assert "genesis hash" in problems
    assert "Consortium" in problems


def test_different_code_at_the_address_is_refused(stack: Stack) -> None:
    """A recorded code hash that does not match the code on chain is refused."""
    consortium = stack.record.contracts["Consortium"]
    tampered = DeploymentRecord(
        chain_id=stack.record.chain_id,
        genesis_hash=stack.record.genesis_hash,
        contracts={"Consortium": replace(consortium, code_hash="0x" + "11" * 32)},
    )
    with pytest.raises(DeploymentMismatchError, match="code hash"):
        attach_stack(stack.chain, tampered)


def test_a_record_of_another_format_is_rejected() -> None:
    """Loading a document that is not a deployment record fails clearly."""
    with pytest.raises(ValueError, match="credit-ledger/deployment@1"):
        DeploymentRecord.from_json({"format": "something-else"})
