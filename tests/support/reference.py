"""Run npm @openzeppelin/merkle-tree (through hardhat-local's node) as a reference."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.support.hardhat import BIN, HARDHAT_LOCAL, in_ci


def openzeppelin_merkle(request: dict[str, Any]) -> dict[str, Any]:
    """Answer of hardhat-local/merkle-reference.cjs; skipped (failed under CI) without node_modules."""
    if not (HARDHAT_LOCAL / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        if in_ci():
            pytest.fail("hardhat-local/node_modules is missing under CI")
        pytest.skip("hardhat-local is not installed")
    node = BIN / "node"
    done = subprocess.run(
        [str(node), str(HARDHAT_LOCAL / "merkle-reference.cjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HARDHAT_LOCAL,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result
