"""Relayed EIP-712 instructions are one mechanism: one Solidity base, one chain_client base,
one gateway check, one client table. Adding an instruction to a contract without its
table entry, route, wrapper methods or shared base fails here.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from chain_client import CommitmentRegistry, CreditLedger, load_artifact
from credit_client.client import INSTRUCTIONS
from gateway.api.routes import commitments as commitment_routes
from gateway.api.routes import lifecycle as lifecycle_routes

CONTRACTS = {"ledger": "CreditLedger", "commitments": "CommitmentRegistry"}
WRAPPERS = {"CreditLedger": CreditLedger, "CommitmentRegistry": CommitmentRegistry}
INSTRUCTION_TUPLE = {
    "type": "tuple",
    "internalType": "struct IRelayedInstructions.Instruction",
    "components": [
        {"name": "nonce", "type": "uint256", "internalType": "uint256"},
        {"name": "deadline", "type": "uint64", "internalType": "uint64"},
        {"name": "signature", "type": "bytes", "internalType": "bytes"},
    ],
}


def relayed_functions(contract: str) -> dict[str, dict[str, Any]]:
    """The contract's ...BySig functions in its committed ABI, by name."""
    abi = load_artifact(contract).abi
    return {e["name"]: e for e in abi if e["type"] == "function" and e["name"].endswith("BySig")}


def snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


@pytest.mark.parametrize("contract", sorted(WRAPPERS))
def test_every_relayed_function_goes_through_the_shared_base(contract: str, repo_root: Path) -> None:
    """Each ...BySig takes IRelayedInstructions.Instruction last, and the contract is built on RelayedInstructions."""
    functions = relayed_functions(contract)
    assert functions
    for name, function in functions.items():
        last = {k: v for k, v in function["inputs"][-1].items() if k != "name"}
        assert last == INSTRUCTION_TUPLE, name
    assert any(e.get("name") == "nonces" for e in load_artifact(contract).abi)
    artifact = json.loads((repo_root / "chain_client" / "artifacts" / f"{contract}.json").read_text())
    assert "contracts/RelayedInstructions.sol" in artifact["sourceHashes"]


def test_the_instruction_check_is_written_once(repo_root: Path) -> None:
    """Only the base defines the instruction struct and the signer check."""
    sources = {p.relative_to(repo_root).as_posix(): p.read_text() for p in (repo_root / "contracts").rglob("*.sol")}
    structs = sorted(name for name, text in sources.items() if re.search(r"\bstruct Instruction\b", text))
    signers = sorted(name for name, text in sources.items() if "function _instructionSigner(" in text)
    assert structs == ["contracts/interfaces/IRelayedInstructions.sol"]
    assert signers == ["contracts/RelayedInstructions.sol"]


def test_the_client_table_covers_every_relayed_function() -> None:
    """INSTRUCTIONS names each ...BySig function of both contracts once, under the contract's domain."""
    in_table = sorted((CONTRACTS[route.domain], route.function) for route in INSTRUCTIONS.values())
    in_abis = sorted((contract, name) for contract in CONTRACTS.values() for name in relayed_functions(contract))
    assert in_table == in_abis


@pytest.mark.parametrize("name", sorted(INSTRUCTIONS))
def test_each_table_entry_is_its_contract_type_and_its_gateway_route(name: str) -> None:
    """The entry's EIP-712 type is the contract's, its hashing rule is that type's, and the gateway
    takes exactly its body fields at its path."""
    route = INSTRUCTIONS[name]
    contract = CONTRACTS[route.domain]
    typehash = snake(name).upper() + "_TYPEHASH"
    assert any(e.get("name") == typehash for e in load_artifact(contract).abi), typehash
    assert route.struct_hash.__name__ == f"{snake(name)}_struct_hash"
    (endpoint,) = [
        r
        for router in (lifecycle_routes.router, commitment_routes.router)
        for r in router.routes
        if isinstance(r, APIRoute) and r.path == route.path and "POST" in r.methods
    ]
    body = inspect.signature(endpoint.endpoint, eval_str=True).parameters["body"].annotation
    assert issubclass(body, BaseModel)
    fields = {n: f for n, f in body.model_fields.items() if n != "instruction"}
    assert sorted(n for n, f in fields.items() if f.is_required()) == sorted(route.fields)
    assert sorted(n for n, f in fields.items() if not f.is_required()) == sorted(route.optional)


@pytest.mark.parametrize("contract", sorted(WRAPPERS))
def test_the_wrapper_signs_and_relays_every_relayed_function(contract: str) -> None:
    """chain_client has sign_x and relay_x for each xBySig."""
    for name in relayed_functions(contract):
        action = snake(name.removesuffix("BySig"))
        assert callable(getattr(WRAPPERS[contract], f"sign_{action}", None)), f"sign_{action}"
        assert callable(getattr(WRAPPERS[contract], f"relay_{action}", None)), f"relay_{action}"
