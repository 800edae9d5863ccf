"""Exceptions raised by chain_client.

ChainClientError
├── BuildError               compiling contracts/ failed or no compiler was found
├── ArtifactError            a committed contract artifact is missing or unreadable
├── ChainUnavailableError    the chain node cannot be reached or answered badly
├── DeploymentMismatchError  the chain does not hold the recorded deployment
├── DevKeyRefusedError       development keys used on a chain that is not for development
└── TransactionError         a transaction or call did not succeed
    └── ContractRevertError  the contract reverted; `name` and `args` say with which error
"""

from __future__ import annotations

from typing import Any


class ChainClientError(Exception):
    """Root of every error chain_client raises on purpose."""


class BuildError(ChainClientError):
    """Compiling contracts/ failed, or no pinned compiler is available."""


class ArtifactError(ChainClientError):
    """A committed contract artifact is missing or unreadable."""


class ChainUnavailableError(ChainClientError):
    """The chain node cannot be reached, or did not answer as a node should."""


class DeploymentMismatchError(ChainClientError):
    """The chain does not hold the deployment recorded for it."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message + ": " + "; ".join(problems))
        self.problems = problems


class DevKeyRefusedError(ChainClientError):
    """A development-only key was offered to a chain that is not a development chain."""


class TransactionError(ChainClientError):
    """A transaction or call did not succeed."""


class ContractRevertError(TransactionError):
    """A contract reverted; the same error whichever node (py-evm, Hardhat, Besu) raised it.

    `name` is the Solidity error's name (`ConsortiumNotGovernor`), `Error` for a revert
    string, `Panic` for a panic code, or `Unknown` when the data matches no known error;
    `arguments` maps the error's parameter names to their decoded values.
    """

    def __init__(self, name: str, args: dict[str, Any], data: bytes) -> None:
        rendered = ", ".join(f"{key}={_render(value)}" for key, value in args.items())
        super().__init__(f"{name}({rendered})")
        self.name = name
        self.arguments = args
        self.data = data


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value)
