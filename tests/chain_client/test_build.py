"""The offline Solidity build and its check against the committed artifacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chain_client import BuildError
from chain_client.dev.build import SOLC_VERSION, collect_sources, find_compiler
from credit_cli.main import main
from tests.support.hardhat import in_ci

pytestmark = pytest.mark.solc


@pytest.fixture(scope="module")
def compiler_available() -> None:
    try:
        find_compiler(Path(__file__).resolve().parents[2])
    except BuildError as exc:
        if in_ci():
            pytest.fail(f"no Solidity compiler under CI: {exc}")
        pytest.skip(f"no Solidity compiler here: {exc}")


@pytest.fixture
def scratch_repo(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the contracts and artifacts, compiling with the checkout's node_modules."""
    shutil.copytree(repo_root / "contracts", tmp_path / "contracts")
    shutil.copytree(repo_root / "chain_client" / "artifacts", tmp_path / "chain_client" / "artifacts")
    (tmp_path / "hardhat-local").mkdir()
    shutil.copy2(repo_root / "hardhat-local" / "solc-standard-json.cjs", tmp_path / "hardhat-local")
    (tmp_path / "hardhat-local" / "node_modules").symlink_to(repo_root / "hardhat-local" / "node_modules")
    return tmp_path


def test_committed_artifacts_match_the_sources(compiler_available: None, repo_root: Path) -> None:
    """`credit-ledger build --check` recompiles contracts/ and finds the committed artifacts current."""
    result = CliRunner().invoke(main, ["build", "--check", "--root", str(repo_root)])
    assert result.exit_code == 0, result.output
    assert f"solc {SOLC_VERSION}" in result.output
    assert "artifacts match the sources" in result.output


def test_check_fails_when_a_source_changed(compiler_available: None, scratch_repo: Path) -> None:
    """Changing a contract without rebuilding makes `build --check` exit 1 and name the artifact."""
    source = scratch_repo / "contracts" / "Consortium.sol"
    source.write_text(source.read_text().replace("ConsortiumInvalidTarget(target)", "ConsortiumZeroAddress()"))
    result = CliRunner().invoke(main, ["build", "--check", "--root", str(scratch_repo)])
    assert result.exit_code == 1, result.output
    assert "DIFF Consortium.json: differs" in result.output


def test_build_rewrites_stale_artifacts(compiler_available: None, scratch_repo: Path) -> None:
    """`credit-ledger build` regenerates a deleted artifact, after which --check passes."""
    (scratch_repo / "chain_client" / "artifacts" / "Consortium.json").unlink()
    missing = CliRunner().invoke(main, ["build", "--check", "--root", str(scratch_repo)])
    assert missing.exit_code == 1
    assert "DIFF Consortium.json: missing" in missing.output
    built = CliRunner().invoke(main, ["build", "--root", str(scratch_repo)])
    assert built.exit_code == 0, built.output
    assert CliRunner().invoke(main, ["build", "--check", "--root", str(scratch_repo)]).exit_code == 0


def test_openzeppelin_comes_from_npm_not_from_the_tree(repo_root: Path) -> None:
    """OpenZeppelin sources are read from hardhat-local/node_modules; none is copied into contracts/."""
    if not (repo_root / "hardhat-local" / "node_modules" / "@openzeppelin").is_dir():
        if in_ci():
            pytest.fail("hardhat-local/node_modules missing under CI")
        pytest.skip("hardhat-local is not installed")
    sources = collect_sources(repo_root)
    assert "@openzeppelin/contracts/utils/Address.sol" in sources
    assert not list((repo_root / "contracts").rglob("Address.sol"))
