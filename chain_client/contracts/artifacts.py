"""The committed contract artifacts that `credit-ledger build` generates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from chain_client._errors import ArtifactError


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: ABI, creation and runtime bytecode, compiler version."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    compiler_version: str
    immutable_ranges: tuple[tuple[int, int], ...]

    def matches_runtime_code(self, code: bytes) -> bool:
        """Whether code deployed on chain is this contract's, its immutables aside."""
        if len(code) != len(self.deployed_bytecode):
            return False
        return _masked(code, self.immutable_ranges) == _masked(self.deployed_bytecode, self.immutable_ranges)


@cache
def load_artifact(name: str) -> Artifact:
    """The artifact of contract `name` (for example "Consortium")."""
    try:
        text = resources.files("chain_client").joinpath("artifacts", f"{name}.json").read_text(encoding="utf-8")
        data = json.loads(text)
        return Artifact(
            name=data["contractName"],
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
            deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
            compiler_version=data["compiler"]["version"],
            immutable_ranges=tuple((int(start), int(length)) for start, length in data["immutableRanges"]),
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"cannot load the artifact of {name}: {exc}") from exc


@cache
def artifact_names() -> tuple[str, ...]:
    """Names of every committed contract artifact."""
    folder = resources.files("chain_client").joinpath("artifacts")
    return tuple(sorted(entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json")))


def _masked(code: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    buffer = bytearray(code)
    for start, length in ranges:
        buffer[start : start + length] = bytes(length)
    return bytes(buffer)
