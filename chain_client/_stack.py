"""Deploy the credit-ledger contracts together and record where they went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from chain_client._chain import Chain
from chain_client._consortium import DEFAULT_PROPOSAL_LIFETIME, Consortium, MemberSpec
from chain_client._deployment import DeploymentRecord, check_deployment, new_record, record_contract
from chain_client._devnet import Devnet, devnet_for


@dataclass(frozen=True)
class Stack:
    """The deployed contracts on one chain, with their deployment record."""

    chain: Chain
    consortium: Consortium
    record: DeploymentRecord


def deploy_stack(
    chain: Chain,
    deployer: LocalAccount,
    members: Sequence[MemberSpec],
    *,
    threshold: int,
    proposal_lifetime: int = DEFAULT_PROPOSAL_LIFETIME,
) -> Stack:
    """Deploy every contract with these founding members."""
    consortium, receipt = Consortium.deploy(
        chain, deployer, members, threshold=threshold, proposal_lifetime=proposal_lifetime
    )
    record = new_record(chain, {"Consortium": record_contract(chain, consortium.address, receipt)})
    return Stack(chain=chain, consortium=consortium, record=record)


def attach_stack(chain: Chain, record: DeploymentRecord) -> Stack:
    """The stack a record describes, after checking that chain holds it."""
    check_deployment(chain, record)
    return Stack(chain=chain, consortium=Consortium(chain, record.address("Consortium")), record=record)


def demo_members(devnet: Devnet) -> list[MemberSpec]:
    """The demo consortium's founding members (development keys)."""
    return [
        MemberSpec(account=d.account.address, region=d.region, name=d.name, roles=d.roles, gateway_url=d.gateway_url)
        for d in devnet.accounts
    ]


def deploy_demo_stack(chain: Chain) -> Stack:
    """Deploy the demo consortium on a development chain (DevKeyRefusedError elsewhere)."""
    devnet = devnet_for(chain.chain_id)
    deployer = devnet.accounts[0].account
    return deploy_stack(chain, deployer, demo_members(devnet), threshold=devnet.threshold)
