"""Deployment records: which contracts live where on which chain.

A record is kept per chain id (`<directory>/<chainId>.json`). It holds the genesis hash,
so that a new chain reusing an id (a restarted Hardhat node) is told apart, and each
contract's address, block and runtime-code hash. check_deployment() refuses a chain
that does not hold the recorded deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3.types import TxReceipt

from chain_client._errors import DeploymentMismatchError
from chain_client.contracts.chain import Chain

RECORD_FORMAT = "credit-ledger/deployment@1"


@dataclass(frozen=True)
class DeployedContract:
    """One deployed contract."""

    address: ChecksumAddress
    block: int
    tx_hash: str
    code_hash: str


@dataclass(frozen=True)
class DeploymentRecord:
    """The contracts deployed on one chain."""

    chain_id: int
    genesis_hash: str
    contracts: dict[str, DeployedContract] = field(default_factory=dict)

    def address(self, name: str) -> ChecksumAddress:
        """Address of contract `name`."""
        return self.contracts[name].address

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON document saved on disk."""
        return {
            "format": RECORD_FORMAT,
            "chainId": self.chain_id,
            "genesisHash": self.genesis_hash,
            "contracts": {
                name: {"address": c.address, "block": c.block, "txHash": c.tx_hash, "codeHash": c.code_hash}
                for name, c in sorted(self.contracts.items())
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeploymentRecord:
        """Parse a record saved by to_json()."""
        if data.get("format") != RECORD_FORMAT:
            raise ValueError(f"not a {RECORD_FORMAT} document")
        return cls(
            chain_id=int(data["chainId"]),
            genesis_hash=str(data["genesisHash"]),
            contracts={
                name: DeployedContract(
                    address=to_checksum_address(c["address"]),
                    block=int(c["block"]),
                    tx_hash=str(c["txHash"]),
                    code_hash=str(c["codeHash"]),
                )
                for name, c in data["contracts"].items()
            },
        )


def record_contract(chain: Chain, address: ChecksumAddress, receipt: TxReceipt) -> DeployedContract:
    """What to record of a contract just deployed."""
    return DeployedContract(
        address=address,
        block=int(receipt["blockNumber"]),
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        code_hash="0x" + chain.code_hash(address).hex(),
    )


def new_record(chain: Chain, contracts: dict[str, DeployedContract]) -> DeploymentRecord:
    """A record of contracts on chain, with the chain's id and genesis hash."""
    return DeploymentRecord(chain_id=chain.chain_id, genesis_hash="0x" + chain.genesis_hash.hex(), contracts=contracts)


def save_deployment(record: DeploymentRecord, directory: Path) -> Path:
    """Write record to `<directory>/<chainId>.json`; returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record.chain_id}.json"
    path.write_text(json.dumps(record.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


def load_deployment(directory: Path, chain_id: int) -> DeploymentRecord:
    """Read the record saved for chain_id."""
    path = directory / f"{chain_id}.json"
    return DeploymentRecord.from_json(json.loads(path.read_text(encoding="utf-8")))


def check_deployment(chain: Chain, record: DeploymentRecord) -> None:
    """Raise DeploymentMismatchError unless chain holds exactly the recorded deployment."""
    problems: list[str] = []
    if chain.chain_id != record.chain_id:
        problems.append(f"chain id is {chain.chain_id}, recorded {record.chain_id}")
    genesis = "0x" + chain.genesis_hash.hex()
    if genesis != record.genesis_hash:
        problems.append(f"genesis hash is {genesis}, recorded {record.genesis_hash}")
    for name, contract in sorted(record.contracts.items()):
        found = "0x" + chain.code_hash(contract.address).hex()
        if found != contract.code_hash:
            problems.append(f"{name} at {contract.address} has code hash {found}, recorded {contract.code_hash}")
    if problems:
        raise DeploymentMismatchError("the chain does not hold the recorded deployment", problems=problems)
