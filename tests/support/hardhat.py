"""Start and stop a real Hardhat 3 node from hardhat-local for the tests."""

from __future__ import annotations

import os
from pathlib import Path

from chain_client.dev.hardhat_node import HardhatNode as _Node
from chain_client.dev.hardhat_node import HardhatUnavailableError, free_port

REPO = Path(__file__).resolve().parents[2]
HARDHAT_LOCAL = REPO / "hardhat-local"
BIN = HARDHAT_LOCAL / "node_modules" / ".bin"

__all__ = ["BIN", "HARDHAT_LOCAL", "REPO", "HardhatNode", "HardhatUnavailableError", "free_port", "in_ci", "start_node"]


class HardhatNode(_Node):
    """A node of this checkout's hardhat-local."""

    def __init__(self, log_path: Path, *, start_time: int | None = None) -> None:
        super().__init__(REPO, log_path, start_time=start_time)


def in_ci() -> bool:
    """True under CI=true, where nothing that should run may be skipped."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def start_node(log_path: Path, *, start_time: int | None = None) -> HardhatNode:
    """A started node (its clock from start_time, if given); under CI a failure to start fails the test,
    elsewhere it skips."""
    import pytest

    try:
        return HardhatNode(log_path, start_time=start_time)
    except HardhatUnavailableError as exc:
        if in_ci():
            pytest.fail(f"Hardhat node could not start under CI: {exc}")
        pytest.skip(f"Hardhat node unavailable: {exc}")
