"""The README's commands and example stay true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.infra.settings import Settings
from tests.support.served import Served, serve_gateway

README = Path(__file__).resolve().parents[1] / "README.md"
TEST_COMMAND = 'pip install -e ".[test]" && scripts/install-hardhat-local && scripts/lint-contracts --install && pytest'


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_starts_with_the_run_and_test_commands() -> None:
    """The first code block holds the two commands: install-and-run, install-and-test."""
    first = _blocks("bash")[0]
    assert "pip install . && credit-ledger serve" in first
    assert TEST_COMMAND in first


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with the README's test command."""
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's Python example runs as written and prints what its comment says."""
    (example,) = [block for block in _blocks("python") if "DevChain.embedded()" in block]
    exec(compile(example, str(README), "exec"), {})
    assert capsys.readouterr().out.strip() == "ConsortiumUnknownProposal {'proposalId': 99}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A gateway like `credit-ledger serve`'s (embedded chain, demo consortium), on a free port."""
    with serve_gateway(Settings(data_dir=tmp_path / "gateway", batch_interval_s=0.2)) as running:
        yield running


def test_the_walkthrough_runs_against_a_served_gateway(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    """The five-minute walkthrough's Python prints what its comments say, then its curl lines answer."""
    (walkthrough,) = [block for block in _blocks("python") if "wait_for_proof" in block]
    assert 'URL = "http://127.0.0.1:8101"' in walkthrough
    exec(compile(walkthrough.replace("http://127.0.0.1:8101", served.url), str(README), "exec"), {})
    assert capsys.readouterr().out.split() == ["accepted", "True", "虚假宣传"]

    (curl,) = [block for block in _blocks("bash") if "dev-headers" in block]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    activate = f". {Path(sys.executable).parent / 'activate'}"  # the venv running the tests, as the README's
    script = "set -eu\n" + curl.replace(". .venv/bin/activate", activate).replace(
        "URL=http://127.0.0.1:8101", f"URL={served.url}"
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=served.gateway.data_dir, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert '"code": "BJ-XZCF-001"' in result.stdout  # the catalog
    assert '"violation": "虚假宣传"' in result.stdout  # the public disclosure, then the full record
    assert '"format": "credit-ledger/access-log@1"' in result.stdout  # the auditor's signed read
    assert '"status":"ready"' in result.stdout.replace(" ", "")  # /readyz
