"""chain_client: the credit-ledger contracts from Python.

Connect to a chain (`Chain.embedded()` or `Chain.connect(url)`), deploy or attach the
contracts (`deploy_stack`, `attach_stack`), and use the typed wrappers (`Consortium`).
Every error raised on purpose derives from `ChainClientError`; a contract revert is a
`ContractRevertError` with the Solidity error's name and arguments, whichever node
raised it.
"""

from chain_client._artifacts import Artifact, artifact_names, load_artifact
from chain_client._chain import Chain, Event
from chain_client._consortium import Call, Consortium, Member, MemberSpec, Proposal
from chain_client._deployment import (
    DeployedContract,
    DeploymentRecord,
    check_deployment,
    load_deployment,
    save_deployment,
)
from chain_client._devnet import DEVELOPMENT_CHAIN_IDS, DevAccount, Devnet, devnet_for
from chain_client._errors import (
    ArtifactError,
    BuildError,
    ChainClientError,
    ChainUnavailableError,
    ContractRevertError,
    DeploymentMismatchError,
    DevKeyRefusedError,
    TransactionError,
)
from chain_client._roles import Role
from chain_client._stack import Stack, attach_stack, demo_members, deploy_demo_stack, deploy_stack

__all__ = [
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
]
