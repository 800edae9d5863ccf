"""`credit-ledger demo`: the three-region story, run as a user runs it, on both chains.

The command runs in a subprocess of its own (three gateways, their servers and the chain
live and die with it), so what it leaves behind under --out is all there is to check.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chain_client import verify_access_log_entry, verify_bundle, verify_report
from tests.support.hardhat import HARDHAT_LOCAL, in_ci

DEMO_TIMEOUT_S = 600
STEPS = (
    "The consortium",
    "The public credit information catalog",
    "Beijing departments record",
    "A Tianjin department reads Beijing's records",
    "tampered payload",
    "An objection",
    "A credit commitment",
    "Credit repair",
    "A Hebei auditor",
    "Beijing's gateway goes down",
)


def run_demo(out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "credit_cli.main", "demo", "--out", str(out), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S, check=False)


def assert_story_told_and_verified(result: subprocess.CompletedProcess[str], out: Path) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    headings = re.findall(r"^== \d+\. (.+)$", result.stdout, flags=re.MULTILINE)
    assert len(headings) == len(STEPS)
    for heading, expected in zip(headings, STEPS, strict=True):
        assert expected in heading
    passed = re.search(r"All (\d+) verifications passed", result.stdout)
    assert passed is not None
    assert int(passed.group(1)) == result.stdout.count("[PASS]") >= 30
    assert "[FAIL]" not in result.stdout
    assert re.search(r"→ .+: http://127\.0\.0\.1:\d+/", result.stdout)  # URLs to look at

    # What it wrote stands on its own: offline, every bundle, the report and the entry check out.
    bundles = sorted((out / "bundles").glob("*.json"))
    assert {p.stem for p in bundles} >= {
        "beijing-penalty",
        "beijing-inspection",
        "beijing-arrears",
        "beijing-correction",
        "beijing-breach",
        "tianjin-tianjin",
    }
    for path in bundles:
        report = verify_bundle(json.loads(path.read_text()))
        assert report.valid, (path.name, report.failed)
    (report_json,) = (out / "reports").glob("*.json")
    assert verify_report(json.loads(report_json.read_text())).valid
    assert "credit-ledger/report@1" in next((out / "reports").glob("*.html")).read_text()
    entry = json.loads((out / "access-log" / "beijing-release-to-tianjin.json").read_text())
    assert verify_access_log_entry(entry).valid


def test_the_demo_tells_the_whole_story_on_the_embedded_chain(tmp_path: Path) -> None:
    """No node and no npm: the default."""
    result = run_demo(tmp_path)
    assert "on the embedded py-evm chain" in result.stdout
    assert_story_told_and_verified(result, tmp_path)


@pytest.mark.hardhat
def test_the_demo_tells_the_same_story_on_hardhat(tmp_path: Path) -> None:
    if not (HARDHAT_LOCAL / "node_modules" / ".bin" / "hardhat").exists():
        if in_ci():
            pytest.fail("hardhat-local is not installed under CI")
        pytest.skip("hardhat-local is not installed")
    result = run_demo(tmp_path, "--hardhat")
    assert re.search(r"three regional gateways on http://127\.0\.0\.1:\d+", result.stdout)
    assert_story_told_and_verified(result, tmp_path)
