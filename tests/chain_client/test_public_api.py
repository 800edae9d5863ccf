"""The curated public surface of chain_client."""

from __future__ import annotations

import chain_client


def test_public_names_are_exactly_the_curated_ones() -> None:
    """__all__ lists what users import, and every name in it exists."""
    assert set(chain_client.__all__) == {
        "DEVELOPMENT_CHAIN_IDS",
        "Artifact",
        "ArtifactError",
        "BuildError",
        "Call",
        "Chain",
        "ChainClientError",
        "ChainUnavailableError",
        "Consortium",
        "ContractRevertError",
        "DeployedContract",
        "DeploymentMismatchError",
        "DeploymentRecord",
        "DevAccount",
        "DevKeyRefusedError",
        "Devnet",
        "Event",
        "Member",
        "MemberSpec",
        "Proposal",
        "Role",
        "Stack",
        "TransactionError",
        "artifact_names",
        "attach_stack",
        "check_deployment",
        "demo_members",
        "deploy_demo_stack",
        "deploy_stack",
        "devnet_for",
        "load_artifact",
        "load_deployment",
        "save_deployment",
    }
    for name in chain_client.__all__:
        assert hasattr(chain_client, name), name


def test_every_error_derives_from_the_root() -> None:
    """Every exception class chain_client exports is a ChainClientError."""
    errors = [getattr(chain_client, n) for n in chain_client.__all__ if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, chain_client.ChainClientError), error


def test_artifacts_say_what_generated_them() -> None:
    """Each committed artifact names its generator and the pinned compiler."""
    assert "Consortium" in chain_client.artifact_names()
    artifact = chain_client.load_artifact("Consortium")
    assert artifact.compiler_version.startswith("0.8.28+")
    assert artifact.bytecode
    assert artifact.deployed_bytecode
