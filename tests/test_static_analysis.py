"""Static analysis of the contracts: slither, through scripts/lint-contracts and contracts/slither-triage.json.

Slither lives in a venv of its own (`scripts/lint-contracts --install`, which .ci/run
does): it needs web3 < 8. Without it these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chain_client import BuildError
from chain_client.dev.build import find_compiler
from tests.support.hardhat import HARDHAT_LOCAL, REPO, in_ci

pytestmark = pytest.mark.solc

SCRIPT = REPO / "scripts" / "lint-contracts"
DEPLOYABLE = {"Consortium", "CreditCatalog", "CreditLedger", "CommitmentRegistry", "SubjectKeys"}
# Below pytest's own timeout (pyproject), so that a hung analysis fails with its output.
LINT_TIMEOUT = 260

# A contract with a high-severity flaw: anyone can send its whole balance anywhere.
DRAIN = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

contract Drain {
    function drain(address payable to) external {
        to.transfer(address(this).balance);
    }

    receive() external payable {}
}
"""


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=LINT_TIMEOUT, check=False
    )


def _report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode in (0, 1), f"lint-contracts exited {done.returncode}:\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="module")
def analyzer() -> None:
    """The pinned slither and a Solidity compiler; skipped without them, except under CI."""
    which = _lint("--which")
    try:
        find_compiler(REPO)
        missing = which.stderr.strip() if which.returncode != 0 else ""
    except BuildError as exc:
        missing = str(exc)
    if missing:
        if in_ci():
            pytest.fail(f"static analysis cannot run under CI: {missing}")
        pytest.skip(f"static analysis cannot run here: {missing}")


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """A checkout holding only Drain.sol and the real triage file, compiling with hardhat-local."""
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "Drain.sol").write_text(DRAIN, encoding="utf-8")
    shutil.copy2(REPO / "contracts" / "slither-triage.json", tmp_path / "contracts")
    (tmp_path / "hardhat-local").mkdir()
    shutil.copy2(HARDHAT_LOCAL / "solc-standard-json.cjs", tmp_path / "hardhat-local")
    (tmp_path / "hardhat-local" / "node_modules").symlink_to(HARDHAT_LOCAL / "node_modules")
    return tmp_path


def test_contracts_have_no_untriaged_finding(analyzer: None) -> None:
    """Slither analyses the four contracts and finds nothing untriaged at or above the triage file's level."""
    done = _lint("--json")
    report = _report(done)
    analyzed = {name for names in report["analyzed"].values() for name in names}
    assert analyzed >= DEPLOYABLE, f"not analysed: {sorted(DEPLOYABLE - analyzed)}"
    failing = [
        f"{f['impact']} {f['detector']} {f['location']}: {f['finding']}"
        for f in report["findings"]
        if f["status"] == "FAIL"
    ]
    assert not failing, "fix these, or accept them in contracts/slither-triage.json:\n" + "\n".join(failing)
    assert done.returncode == 0, done.stderr


def test_a_high_severity_finding_fails_the_check(analyzer: None, scratch_repo: Path) -> None:
    """A contract that lets anyone drain it makes lint-contracts exit 1 and name the finding and its line."""
    done = _lint("--json", "--root", str(scratch_repo))
    report = _report(done)
    assert done.returncode == 1
    failing = [(f["impact"], f["detector"], f["location"]) for f in report["findings"] if f["status"] == "FAIL"]
    assert ("High", "arbitrary-send-eth", "contracts/Drain.sol:6") in failing
