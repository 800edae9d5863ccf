"""The README's commands and example stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_starts_with_the_run_and_test_commands() -> None:
    """The first code block holds the two commands: install-and-run, install-and-test."""
    first = _blocks("bash")[0]
    assert "pip install . && credit-ledger serve" in first
    assert 'pip install -e ".[test]" && scripts/install-hardhat-local && pytest' in first


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with the README's test command."""
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]" && scripts/install-hardhat-local && pytest' in ci


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's Python example runs as written and prints what its comment says."""
    (example,) = [block for block in _blocks("python") if "Chain.embedded()" in block]
    exec(compile(example, str(README), "exec"), {})
    assert capsys.readouterr().out.strip() == "ConsortiumUnknownProposal {'proposalId': 99}"
