"""Deploy the credit-ledger contracts together and record where they went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from chain_client._calendar import shipped_calendars
from chain_client._calendar_registry import CalendarRegistry
from chain_client._catalog import CreditCatalog
from chain_client._chain import Chain
from chain_client._commitments import CommitmentRegistry
from chain_client._consortium import DEFAULT_PROPOSAL_LIFETIME, Consortium, MemberSpec
from chain_client._deployment import DeploymentRecord, check_deployment, new_record, record_contract
from chain_client._devnet import Devnet, devnet_for
from chain_client._ledger import CreditLedger
from chain_client._roles import Role


@dataclass(frozen=True)
class Stack:
    """The deployed contracts on one chain, with their deployment record."""

    chain: Chain
    consortium: Consortium
    catalog: CreditCatalog
    ledger: CreditLedger
    calendars: CalendarRegistry
    commitments: CommitmentRegistry
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
    contracts = {"Consortium": record_contract(chain, consortium.address, receipt)}
    catalog_address, receipt = chain.deploy(deployer, "CreditCatalog", consortium.address)
    contracts["CreditCatalog"] = record_contract(chain, catalog_address, receipt)
    ledger_address, receipt = chain.deploy(deployer, "CreditLedger", consortium.address, catalog_address)
    contracts["CreditLedger"] = record_contract(chain, ledger_address, receipt)
    calendars_address, receipt = chain.deploy(deployer, "CalendarRegistry", consortium.address)
    contracts["CalendarRegistry"] = record_contract(chain, calendars_address, receipt)
    registry_address, receipt = chain.deploy(deployer, "CommitmentRegistry", consortium.address, calendars_address)
    contracts["CommitmentRegistry"] = record_contract(chain, registry_address, receipt)
    return _stack(chain, new_record(chain, contracts))


def attach_stack(chain: Chain, record: DeploymentRecord) -> Stack:
    """The stack a record describes, after checking that chain holds it."""
    check_deployment(chain, record)
    return _stack(chain, record)


def demo_members(devnet: Devnet) -> list[MemberSpec]:
    """The demo consortium's founding members (development keys)."""
    return [
        MemberSpec(account=d.account.address, region=d.region, name=d.name, roles=d.roles, gateway_url=d.gateway_url)
        for d in devnet.accounts
    ]


def deploy_demo_stack(chain: Chain) -> Stack:
    """Deploy the demo consortium on a development chain (DevKeyRefusedError elsewhere).

    Its governors adopt the shipped working calendars (one proposal each), so that
    commitments in those years can be counted from the start.
    """
    devnet = devnet_for(chain.chain_id)
    deployer = devnet.accounts[0].account
    stack = deploy_stack(chain, deployer, demo_members(devnet), threshold=devnet.threshold)
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: devnet.threshold]
    for calendar in shipped_calendars():
        stack.consortium.govern(governors, stack.calendars.adopt_call(calendar))
    return stack


def _stack(chain: Chain, record: DeploymentRecord) -> Stack:
    return Stack(
        chain=chain,
        consortium=Consortium(chain, record.address("Consortium")),
        catalog=CreditCatalog(chain, record.address("CreditCatalog")),
        ledger=CreditLedger(chain, record.address("CreditLedger")),
        calendars=CalendarRegistry(chain, record.address("CalendarRegistry")),
        commitments=CommitmentRegistry(chain, record.address("CommitmentRegistry")),
        record=record,
    )
